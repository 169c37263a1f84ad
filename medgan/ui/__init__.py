"""Streamlit helpers shared by the pages (widgets used on more than one page). Only pages import this."""
