"""Evaluation of generated images: quality (piq), distribution (FID, KID, precision/recall, density/coverage),
memorization audit, and the feature extractors they use."""
