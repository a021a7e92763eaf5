"""Training: the data pipeline, loss, loop, checkpoints, logging and DDP behind ``mhp-train``."""
