"""Pure negotiation rules: exact ``Decimal`` money, explicit rounding, no I/O."""
