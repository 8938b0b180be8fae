"""The command line's words for the core's settings. The core names a setting as the project
and the app do ("the number of epochs"); its error carries the setting's key (DeepGuiError's
`setting`), and each command prints the sentence with the flag that sets it."""

from __future__ import annotations

from deepgui.core.errors import DeepGuiError

FLAGS = {
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "out": "--out",
    "data": "--data",
    "target": "--target",
    "missing": "--missing",
    "engine": "--engine",
    "workers": "--workers",
    "coordinator": "--coordinator",
    "join_seconds": "--join-timeout",
    "force": "--force",
    "rank": "--rank",
    "world": "--world",
    "vary": "--vary",
    "trials": "--trials",
    "algorithm": "--algorithm",
    "objective": "--objective",
    "minutes": "--minutes",
    "parallel": "--parallel",
}


def sentence(exc: DeepGuiError) -> str:
    """The error's sentence, ending with the flag of the setting it is about: "The number of
    epochs must be at least 1, not 0 (--epochs)."."""
    text = str(exc)
    flag = FLAGS.get(getattr(exc, "setting", None) or "")
    if flag is None or flag in text:
        return text
    return f"{text.rstrip().rstrip('.')} ({flag})."
