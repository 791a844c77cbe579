"""dcca_core: deep clustering for unsupervised anomaly detection (the library behind dcca-book)."""

__version__ = "0.1.0"
