"""Alembic migrations; run with ``loanbridge db upgrade`` (see :mod:`storage.migrate`)."""
