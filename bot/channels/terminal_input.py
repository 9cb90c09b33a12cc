"""Lines typed (or piped) into ``loanbridge chat``, as text, whatever bytes arrive.

Standard input is read as bytes and decoded with replacement: a terminal that cuts a long paste in the middle
of a Chinese character, or a script in another encoding, gives a line with a replacement mark, never a crash.
The reading happens on a daemon thread, so leaving (Ctrl-C) never waits for a line that is not coming.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import threading
from typing import BinaryIO

# A long paste is answered kindly by the flow; past this the rest of the line is dropped.
MAX_LINE_BYTES = 400_000


def decode(raw: bytes, encoding: str = "utf-8") -> str:
    """One line's bytes as text; what cannot be decoded becomes U+FFFD."""
    return raw.decode(encoding, errors="replace").rstrip("\r\n")


def read_line(stream: BinaryIO, limit: int = MAX_LINE_BYTES) -> bytes | None:
    """The next line (at most ``limit`` bytes of it), or None at the end of input."""
    raw = stream.readline(limit)
    if not raw:
        return None
    if len(raw) == limit and not raw.endswith(b"\n"):
        while (rest := stream.readline(limit)) and not rest.endswith(b"\n"):
            pass  # the rest of an over-long line: dropped, so it does not arrive as further messages
    return raw


def unbuffered_if_terminal(stream: BinaryIO) -> BinaryIO:
    """A terminal's input read through its file descriptor, without the buffer's lock.

    The reading thread waits inside ``readline`` until the person types; if it held the buffered reader's lock
    then, the interpreter could not close standard input on the way out and aborted ("Fatal Python error:
    _enter_buffered_busy"). A terminal gives a line at a time, so nothing is lost by reading it unbuffered; a
    pipe keeps its buffer (a script's lines may already be in it).
    """
    try:
        if not os.isatty(stream.fileno()):
            return stream
    except (AttributeError, OSError, ValueError):
        return stream  # not a real file: a test's BytesIO
    return io.FileIO(stream.fileno(), "rb", closefd=False)


class LineReader:
    """Lines from ``stream`` for the event loop: ``await next()`` gives a line, or None at the end."""

    def __init__(self, stream: BinaryIO, encoding: str = "utf-8") -> None:
        self._stream = unbuffered_if_terminal(stream)
        self._encoding = encoding
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._thread: threading.Thread | None = None

    async def next(self) -> str | None:
        if self._thread is None:
            self._start(asyncio.get_running_loop())
        return await self._lines.get()

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._thread = threading.Thread(target=self._pump, args=(loop,), name="stdin", daemon=True)
        self._thread.start()

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while (raw := read_line(self._stream)) is not None:
                self._put(loop, decode(raw, self._encoding))
        except (OSError, ValueError):
            pass  # standard input closed under us: the same as its end
        self._put(loop, None)

    def _put(self, loop: asyncio.AbstractEventLoop, line: str | None) -> None:
        # Once the chat has ended its loop is closed: nobody is waiting for this line.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._lines.put_nowait, line)
