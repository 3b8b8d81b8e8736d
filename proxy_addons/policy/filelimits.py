"""Bounds on what a policy file may cost to read, so that no file can stall or exhaust the gateway.

The policy is re-read whenever it changes, by the running proxy and by `gonogo check`. A device
(`/dev/zero`) or a FIFO would never end, a huge file would fill memory, and a YAML "billion laughs" (aliases
of aliases) expands a few hundred bytes into a billion nodes. Each of these is refused with a located error.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

MAX_POLICY_BYTES = 8 * 1024 * 1024  # a policy file; large domain lists belong in `files:`, read separately
MAX_DEPTH = 64  # nesting of mappings and sequences; a real policy needs fewer than ten levels
MAX_ALIAS_NODES = 100_000  # nodes aliases may add when expanded (a real policy: a few hundred)


class NotRegularFile(OSError):
    """The path names a device, FIFO, socket or directory: reading it might never end."""

    def __init__(self) -> None:
        super().__init__(0, "not a regular file")


class TooLarge(OSError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(0, f"the file is larger than {limit // (1024 * 1024)} MB ({size} bytes)")


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading. A FIFO is opened without waiting for a writer (a plain `open` of a
    FIFO blocks until somebody writes) and then refused, like devices and directories."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(mode):
            raise NotRegularFile()
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path: Path, limit: int = MAX_POLICY_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (it may grow while read: at most limit+1 are read)."""
    with open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(max(len(data), os.stat(path).st_size), limit)
    return data
