"""MedGAN Studio: train, inspect, test and export GANs for medical images."""

__version__ = "0.1.0"
