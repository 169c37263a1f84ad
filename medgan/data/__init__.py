"""Datasets: readers, ingestion, manifest, cache and splits."""
