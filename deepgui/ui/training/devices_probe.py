"""Which devices this machine can train on, for the device menu (runs in the background: it
imports TensorFlow). GPU memory comes from nvidia-smi where it is there."""

from __future__ import annotations

import shutil
import subprocess


def gpu_memory_mib() -> dict[int, int]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return {}
    try:
        out = subprocess.run([exe, "--query-gpu=index,memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=5, check=True).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {}
    memory = {}
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            memory[int(parts[0])] = int(parts[1])
    return memory


def detect_devices() -> list[tuple[str, str]]:
    """(spec, label) for each GPU TensorFlow sees, with its memory; empty on a CPU machine."""
    from deepgui.core.training.devices import list_gpus

    gpus = list_gpus()
    memory = gpu_memory_mib() if gpus else {}
    out = []
    for g in gpus:
        mib = memory.get(g["index"])
        size = f" ({mib / 1024:.0f} GiB)" if mib else ""
        out.append((f"gpu:{g['index']}", f"GPU {g['index']}: {g['name']}{size}"))
    if len(gpus) > 1:
        out.append(("gpus", f"All {len(gpus)} GPUs (mirrored)"))
    return out
