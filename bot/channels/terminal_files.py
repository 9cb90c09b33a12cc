"""Files on the terminal: ``/file PATH`` sends one, and the documents the bot sends are saved as files.

``/file``: only a regular file, and never more of it than the size limit. The path is typed by the person at
the keyboard, so it may name anything: a device that never ends (``/dev/zero``), a pipe nobody writes to, a
folder. Each is refused from its metadata, before a byte is read.

Received documents (an agreement, the signed copy, the /mydata export): :func:`save_document` writes each to
``<folder>/<user>/<file name>`` (:func:`documents_folder`: ``LOANBRIDGE_TERMINAL_FILES``, else
``~/LoanBridge``), readable by this user account only, whole or not at all; the same name again (the export
asked for again) replaces the older copy.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

from dialogs.flows.inputs import MAX_FILE_BYTES

_CHUNK = 1024 * 1024
# The flow refuses a file by its size before it looks at the digest, as for Telegram's undownloaded files.
_NOT_READ = "0" * 64


class FileRefused(Exception):
    """The typed path cannot be sent; ``template`` says why, in the person's language."""

    def __init__(self, template: str, path: str) -> None:
        super().__init__(template)
        self.template = template
        self.context: dict[str, Any] = {"path": path}


def file_facts(path_text: str, limit: int = MAX_FILE_BYTES) -> dict[str, object]:
    """What the flow needs to know about the file at ``path_text`` (its digest only when within ``limit``)."""
    path = Path(path_text).expanduser()
    if not path_text:
        raise FileRefused("terminal/file_missing", path_text)
    try:
        facts = path.stat()
    except OSError:
        raise FileRefused("terminal/file_missing", path_text) from None
    if not stat.S_ISREG(facts.st_mode):
        raise FileRefused("terminal/file_not_regular", path_text)
    described = {"ref": str(path.resolve()), "name": path.name, "size": facts.st_size}
    if facts.st_size > limit:
        return described | {"sha256": _NOT_READ}
    content = _read_at_most(path, limit + 1, path_text)
    return described | {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def _read_at_most(path: Path, most: int, path_text: str) -> bytes:
    try:
        # O_NONBLOCK: if the path became a pipe after the stat, opening it must not wait for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        raise FileRefused("terminal/file_unreadable", path_text) from None
    with os.fdopen(descriptor, "rb") as opened:
        if not stat.S_ISREG(os.fstat(opened.fileno()).st_mode):
            raise FileRefused("terminal/file_not_regular", path_text)
        return _read_chunks(opened, most, path_text)


def _read_chunks(opened: Any, most: int, path_text: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    try:
        while total < most and (chunk := opened.read(min(_CHUNK, most - total))):
            chunks.append(chunk)
            total += len(chunk)
    except OSError:
        raise FileRefused("terminal/file_unreadable", path_text) from None
    return b"".join(chunks)


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def documents_folder(configured: str | None, user: str) -> Path:
    """Where ``user``'s received documents go: one folder per terminal user, as an absolute path."""
    base = Path(configured).expanduser() if configured else _home() / "LoanBridge"
    return (base / _safe_name(user, "user")).absolute()


def _home() -> Path:
    try:
        return Path.home()
    except RuntimeError:  # no HOME and no password entry (a bare container): beside where it runs
        return Path.cwd()


def _safe_name(name: str, fallback: str) -> str:
    """A file or folder name from what the bot or the person named: no path, no hidden file, no controls."""
    cleaned = _UNSAFE_NAME.sub("_", Path(name).name).lstrip(".")
    return cleaned or fallback


def save_document(folder: Path, file_name: str, text: str) -> Path:
    """Write ``text`` as ``folder/file_name`` (UTF-8), replacing an older copy only once it is whole."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = folder / _safe_name(file_name, "document.txt")
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".saving-")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as out:
            out.write(text if text.endswith("\n") else text + "\n")
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
