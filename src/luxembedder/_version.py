"""The toolkit's version (one place; ``luxembedder.__version__`` re-exports it)."""

__version__ = "0.1.0"
