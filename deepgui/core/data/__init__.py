"""Data sources: built-in samples, CSV, NumPy, image folders, time series, Keras's sets."""
