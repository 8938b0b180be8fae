import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Determinism and a quiet CPU: tests share 2 cores.
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
