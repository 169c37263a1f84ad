"""Blinded visual Turing tests: studies, raters, blinded image serving, ratings and their statistics.

``store`` owns the SQLite tables, ``blinding`` the metadata-free PNG encoding and per-rater order,
``study`` creates a study, ``session`` is what a rater's link can do, ``stats`` and ``results`` turn
ratings into numbers, ``access`` checks the owner's password, ``gallery`` feeds the gallery page.
"""
