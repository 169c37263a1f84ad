"""Classifier comparison: does adding synthetic images help a diagnostic classifier?

Arms (real only; real + classic augmentation; real + synthetic; real + classic + synthetic) are trained on
the same patient-level folds and compared with bootstrap intervals and paired tests.
"""
