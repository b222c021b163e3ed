"""sparse-sub worker: the Python side that loads models and runs the pipeline's heavy stages."""

__version__ = "0.1.0"
PROTOCOL = "sparse_sub.v1"
