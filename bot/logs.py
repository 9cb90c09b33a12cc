"""Where the log goes. Never into a conversation: ``loanbridge chat`` on one terminal writes its log to a file
beside the database (or ``--log-file``), and to standard error only when that is somewhere else.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from storage.db import sqlite_file

LOG_NAME = "loanbridge.log"
FORMAT = "%(levelname)s %(name)s: %(message)s"
# httpx logs every request's URL, and a Bot API URL carries the bot's token: never at INFO.
_CHATTY = ("alembic.runtime.migration", "apscheduler", "httpx", "httpcore", "aiogram")


def _same_file(first: int, second: int) -> bool:
    try:
        return os.path.samestat(os.fstat(first), os.fstat(second))
    except OSError:
        return False


def stderr_joins_the_conversation() -> bool:
    """Whether standard error lands where the conversation is read or typed (one terminal, or ``2>&1``)."""
    typed_there = os.isatty(0) and os.isatty(2) and _same_file(0, 2)
    return _same_file(1, 2) or typed_there


def default_log_file(database_url: str) -> Path:
    """``loanbridge.log`` beside the SQLite database, or in the current directory for PostgreSQL."""
    database = sqlite_file(database_url)
    return database.with_name(LOG_NAME) if database else Path.cwd() / LOG_NAME


def configure(log_file: Path | None) -> None:
    """Log at INFO to ``log_file``, or to standard error when it is None."""
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler()
    )
    if log_file:
        handler.setFormatter(logging.Formatter("%(asctime)s " + FORMAT))
    logging.basicConfig(level=logging.INFO, format=FORMAT, handlers=[handler], force=True)
    for chatty in _CHATTY:
        logging.getLogger(chatty).setLevel(logging.WARNING)
