"""The command line's words for the core's settings. The core names a setting as the project
and the app do ("the number of epochs"); its error carries the setting's key (DeepGuiError's
`setting`), and each command prints the sentence with the flag that sets it. A bad option is
one sentence too (`Parser`), for `deepgui` and for each command run on its own."""

from __future__ import annotations

import argparse
import math

from deepgui.core.errors import DeepGuiError

# Exit status of bad input (README, "The command line"): a bad option, a missing file.
EXIT_BAD_INPUT = 2

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
    "patience": "--patience",
    "split": "--split",
}


def sentence(exc: DeepGuiError) -> str:
    """The error's sentence, ending with the flag of the setting it is about: "The number of
    epochs must be at least 1, not 0 (--epochs)."."""
    text = str(exc)
    flag = FLAGS.get(getattr(exc, "setting", None) or "")
    if flag is None or flag in text:
        return text
    return f"{text.rstrip().rstrip('.')} ({flag})."


def whole_number(text: str) -> int:
    """A count option as argparse reads it: a whole number, also written 1e3, so that
    `--epochs 1e30` reaches the core's limit (limits.py) and is refused in its words, not
    as an invalid number."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value.is_integer():  # NaN and infinity are not either
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}")
    return int(value)


class Parser(argparse.ArgumentParser):
    """A bad option is one sentence and exit status 2, as every other bad input is: not
    argparse's usage block (`--help` still shows it)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        text = " ".join(message.split()).rstrip(".")
        self.exit(EXIT_BAD_INPUT, f"deepgui: {text}; see {self.prog} --help.\n")
