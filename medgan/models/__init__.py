"""GAN architectures, looked up by name in :mod:`medgan.models.registry`."""
