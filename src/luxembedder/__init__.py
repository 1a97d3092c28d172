"""luxembedder: cross-lingual sentence embedders for Luxembourgish and other low-resource languages."""

__version__ = "0.1.0"
