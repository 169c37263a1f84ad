"""One module per CLI sub-command (each defines ``add_parser`` and ``run``)."""
