"""What the command line's Ctrl+C and SIGTERM handlers hand on. A Python signal handler runs on
the main thread between two of its bytecodes, and there the main thread may be holding a lock
the stop needs, or be writing to a pipe, a socket or stderr: stopping from the handler itself
could deadlock, interleave a message into a half-written line, or raise "reentrant call" into
training. So the handler only records the signal; a thread of its own says so and stops."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable


class StopOnSignal:
    """The first signal stops gracefully (in a thread: `stop`, after writing `saying`); the
    second leaves at once (KeyboardInterrupt in the main thread)."""

    def __init__(self, stop: Callable[[], None], saying: Callable[[int], str]) -> None:
        self.stop, self.saying = stop, saying
        self.asked: list[int] = []  # the signals received
        self._thread: threading.Thread | None = None

    def __call__(self, signum: int, _frame) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked.append(signum)
        self._thread = threading.Thread(target=self._stop, args=(signum,),
                                        name="deepgui-stop", daemon=True)  # fmt: skip
        self._thread.start()

    def _stop(self, signum: int) -> None:
        sys.stderr.write(self.saying(signum))
        sys.stderr.flush()
        self.stop()

    def settle(self, timeout: float = 5.0) -> None:
        """Wait for the stop's thread, so that what it says comes before what follows."""
        if self._thread is not None:
            self._thread.join(timeout)
