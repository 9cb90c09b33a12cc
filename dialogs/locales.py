"""The languages the bot speaks; every template exists in each of them."""

from __future__ import annotations

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


def pick_locale(hint: str | None) -> str | None:
    """A channel's language hint (Telegram's ``language_code``, such as ``en-GB`` or ``zh-hans``) as ours."""
    language = (hint or "").lower()[:2]
    if not language.isalpha() or language in ("c", "po"):  # unset, or a terminal's C / POSIX locale
        return None
    return DEFAULT_LOCALE if language == "zh" else "en"
