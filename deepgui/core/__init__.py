"""The Qt-free core: everything that decides or holds state. Imports neither Qt nor TensorFlow
at import time; Keras is loaded inside the functions that need it."""
