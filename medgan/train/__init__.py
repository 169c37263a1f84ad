"""Training: config, loop, losses, small-data tools, checkpoints, distributed runs, jobs."""
