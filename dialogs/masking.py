"""Masking for every display and log line: enough to recognise, never enough to use."""

from __future__ import annotations


def mask_id_number(number: str) -> str:
    """``110101199003071234`` -> ``110***********1234``."""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(phone: str) -> str:
    """``+8613812345678`` -> ``138****5678``; the country code is dropped for Chinese numbers."""
    national = phone.removeprefix("+86") if phone.startswith("+86") else phone
    if len(national) <= 7:
        return "*" * len(national)
    return national[:3] + "*" * (len(national) - 7) + national[-4:]


def mask_name(name: str) -> str:
    """``张三丰`` -> ``张**``: the surname only, as Chinese services show it."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)
