"""The core of LoanBridge: domain types, the case lifecycle, ports, rules and flows.

Nothing here imports a chat library, SQLAlchemy, Jinja2, ``storage`` or ``bot``; those depend on this package.
"""
