"""Flywheel's PyTorch worker pool: trains MLP classifiers on CUDA (or the CPU) for the TypeScript
workflows and hands them back as ONNX."""

__version__ = "0.1.0"
