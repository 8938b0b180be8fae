"""Reading and writing files without surprises, for every loader and writer of the core.

Reading: only regular files (a device, a pipe or a socket would hang or never end), and only
up to a size stated before the first byte is read. Writing: into a temporary file in the same
folder, flushed, then renamed over the target, so a crash or a full disk leaves what was there
whole and no temporary file behind; every failure is one sentence naming the path
(`WriteError`, which is also an OSError for callers that catch those).

A process killed outright (kill -9, a power cut) cannot remove its temporary file, so every
one is named by one scheme, ``.NAME.deepgui-tmp.PID.RANDOM[SUFFIX]`` (`temp_prefix`): the
next write into that folder recognises deepgui's own leftovers and removes those whose process
is gone, or that are older than TEMP_GRACE_S (by then the pid may belong to someone else).
Nothing else in the folder is touched (`sweep_temporaries`).

Every file and folder written here gets the mode the user's umask gives any new file (0644,
0755 under the usual 022): tempfile's own mkstemp and mkdtemp make private 0600 and 0700 ones,
which the rename would have carried over to the user's project, weights and exports.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from deepgui.core.errors import DeepGuiError

MiB = 1 << 20
GiB = 1 << 30


class WriteError(DeepGuiError, OSError):
    """A file or folder could not be written; the message names it and says why."""


class ReadError(DeepGuiError):
    """A file is not there, not a regular file, too big, or cannot be read."""


_WHY = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "it is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ENOENT: "its folder does not exist",
}


def why(exc: BaseException) -> str:
    """The reason an OSError gives, in a few words."""
    if isinstance(exc, DeepGuiError):
        return str(exc).rstrip(".")
    code = getattr(exc, "errno", None)
    if code in _WHY:
        return _WHY[code]
    text = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
    return text.rstrip(".")


def disk_problem(exc: BaseException) -> str | None:
    """A full or read-only disk (or another OSError), however a writer reports it: TensorFlow,
    h5py and Keras raise their own error classes with the system's words in them. None when
    `exc` is not about the disk."""
    if isinstance(exc, OSError) and getattr(exc, "errno", None) is not None:
        return why(exc)
    text = str(exc)
    for words, reason in (
        ("No space left on device", _WHY[errno.ENOSPC]),
        ("Read-only file system", _WHY[errno.EROFS]),
        ("Disk quota exceeded", _WHY[errno.EDQUOT]),
        ("Permission denied", _WHY[errno.EACCES]),
    ):
        if words in text:
            return reason
    return None


def write_error(path: str | os.PathLike, exc: BaseException) -> WriteError:
    """One sentence for a failed write of `path`."""
    if isinstance(exc, WriteError):
        return exc
    err = WriteError(f"{path}: cannot be written: {why(exc)}.")
    err.errno = getattr(exc, "errno", None)
    return err


def memory_budget() -> int:
    """Bytes that data read into memory may take: half the physical memory (the model and
    training need the rest). Unknown memory: 8 GiB."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):
        return 8 * GiB


def amount(size: int) -> str:
    """A byte count for people: 1.5 GiB, 20.0 MiB, 300 bytes."""
    if size >= GiB:
        return f"{size / GiB:.1f} GiB"
    if size >= MiB:
        return f"{size / MiB:.1f} MiB"
    return f"{size} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_file(
    path: str | os.PathLike, what: str = "file", max_bytes: int | None = None, error=ReadError
) -> int:
    """The size of the regular file at `path`; `error` (one sentence) when it is missing, a
    folder, a device, a pipe or a socket, or bigger than `max_bytes`."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise error(f"{path}: is a link to a file that is not there.") from None
        raise error(f"{path}: no such file.") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read: {why(exc)}.") from None
    return _check_stat(path, st, what, max_bytes, error)


def _check_stat(path, st: os.stat_result, what: str, max_bytes: int | None, error) -> int:
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{path}: is a folder, not a {what}.")
    if not stat.S_ISREG(st.st_mode):
        raise error(
            f"{path}: is {_kind(st.st_mode)}, not a {what}; deepgui reads only regular files."
        )
    if max_bytes is not None and st.st_size > max_bytes:
        raise error(
            f"{path}: is {amount(st.st_size)}, more than deepgui reads for a {what} "
            f"({amount(max_bytes)})."
        )
    return st.st_size


def read_bytes(
    path: str | os.PathLike, what: str = "file", max_bytes: int | None = None, error=ReadError
) -> bytes:
    """The whole regular file, checked as `check_file` does. Opened without blocking and checked
    on the open file, so a pipe swapped in after the check cannot hang the read."""
    check_file(path, what, max_bytes, error)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(f"{path}: cannot be read: {why(exc)}.") from None
    try:
        size = _check_stat(path, os.fstat(fd), what, max_bytes, error)
        limit = size if max_bytes is None else min(size, max_bytes)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 24, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise error(f"{path}: cannot be read: {why(exc)}.") from None
    finally:
        os.close(fd)
    if max_bytes is not None and total > max_bytes:  # it grew while being read
        raise error(f"{path}: grew past {amount(max_bytes)} while it was read.")
    return b"".join(chunks)


def read_text(
    path: str | os.PathLike, what: str = "file", max_bytes: int | None = None, error=ReadError
) -> str:
    """`read_bytes` decoded as UTF-8 (a byte-order mark is dropped)."""
    data = read_bytes(path, what, max_bytes, error)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{path}: is not UTF-8 text, so not a {what}.") from None


# ----------------------------------------------------------------------------- temporaries
TEMP_MARK = ".deepgui-tmp."
# A write in progress touches its file within seconds; one a live pid has left alone this long
# is a leftover whose pid was reused.
TEMP_GRACE_S = 24 * 3600
# The target's name is cut to this many bytes in the temporary's: the whole name would not
# fit within the 255 bytes a file name may have once the mark, pid and ending are added.
_NAME_BYTES = 120
_TEMP_NAME = re.compile(r"^\..*\.deepgui-tmp\.(\d{1,10})\.[a-z0-9_]{4,}(\..*)?$", re.DOTALL)


def temp_prefix(path: str | os.PathLike) -> str:
    """The start of a temporary name beside `path` (the random part and the ending follow):
    hidden, the target's name (shortened), the mark and this process's pid."""
    name = os.fsencode(Path(path).name)[:_NAME_BYTES].decode("utf-8", errors="ignore")
    return f".{name}{TEMP_MARK}{os.getpid()}."


def temp_owner(name: str) -> int | None:
    """The pid that made the temporary file or folder called `name`; None when `name` is not
    one of deepgui's temporaries."""
    m = _TEMP_NAME.match(name)
    return int(m.group(1)) if m else None


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs now (someone else's counts)."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    except (OSError, OverflowError, ValueError):  # a pid no system has
        return False
    return True


def sweep_temporaries(folder: str | os.PathLike, grace_s: float = TEMP_GRACE_S) -> list[Path]:
    """Remove deepgui's own temporaries in `folder` that a killed process left: those whose
    process is gone, or untouched for `grace_s`. Files of running writers (this process's too)
    and everything not named by the scheme stay. Best effort, never raises; the paths removed."""
    removed = []
    now = time.time()
    try:
        with os.scandir(folder) as entries:
            candidates = [e for e in entries if e.name.startswith(".") and TEMP_MARK in e.name]
    except OSError:
        return removed
    for entry in candidates:
        pid = temp_owner(entry.name)
        if pid is None:
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if pid_alive(pid) and age < grace_s:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue  # gone meanwhile, or not ours to remove: left as it is
        removed.append(Path(entry.path))
    return removed


_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _new_temporary(path: Path, suffix: str, folder: bool = False) -> Path:
    """A new file (or folder) beside `path`, named by the scheme, made with the mode any new
    file gets (0666 or 0777 less the umask, applied by the system) rather than tempfile's
    private one. Created exclusively, so it is never someone else's file."""
    for _ in range(100):
        tmp = path.parent / f"{temp_prefix(path)}{secrets.token_hex(4)}{suffix}"
        try:
            if folder:
                os.mkdir(tmp, 0o777)
            else:
                os.close(os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def temp_folder(path: str | os.PathLike) -> Path:
    """A new hidden folder beside `path`, named by the scheme (for a writer that makes a folder
    before moving it into place, as a SavedModel export does); leftovers are swept first."""
    path = Path(path)
    sweep_temporaries(path.parent)
    return _new_temporary(path, "", folder=True)


# ----------------------------------------------------------------------------- writing
def _prepare_folder(path: Path) -> None:
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise WriteError(f"{path}: cannot be written: {parent} is a file, not a folder.")
    if path.is_dir():
        raise WriteError(f"{path}: is a folder; give a file name.")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(path, exc) from None


@contextlib.contextmanager
def staged(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed over `path` when the block ends
    without an error, removed when it raises. OSErrors become WriteError naming `path`.
    `suffix` is the temporary file's ending (some writers insist on one, as Keras on .keras).
    What a killed earlier writer left in that folder is swept away first."""
    path = Path(path)
    _prepare_folder(path)
    sweep_temporaries(path.parent)
    try:
        tmp = _new_temporary(path, suffix)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise write_error(path, exc) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically (flushed to disk before the rename)."""
    path = Path(path)
    with staged(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def exchange(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE): a folder is replaced by
    another with no moment at which neither is there. False where the system cannot do it
    (the caller then moves one aside first); an OSError for a real failure."""
    # ctypes.util brings subprocess (15 ms on every start): only this Linux-only swap needs it.
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def writable_folder(folder: str | os.PathLike) -> None:
    """WriteError unless files can be created in `folder` (made if missing): a read-only disk
    or a full one is found before hours of work are spent."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=temp_prefix(folder / "deepgui-probe"), dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise WriteError(f"{folder}: cannot be written to: {why(exc)}.") from None
