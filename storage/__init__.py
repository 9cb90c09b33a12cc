"""The case store: SQLAlchemy models, the store that implements the core's ports, encryption, migrations."""

from storage.crypto import FieldCipher, load_or_create_key
from storage.db import async_url, create_engine
from storage.migrate import upgrade
from storage.store import SqlStore

__all__ = ["FieldCipher", "SqlStore", "async_url", "create_engine", "load_or_create_key", "upgrade"]
