"""Render an :class:`Outbound` for its recipient: Jinja2 templates per locale, Babel for money and dates.

Templates live in ``templates/<locale>/<name>.j2``; button labels and other short words are macros in
``templates/<locale>/labels.j2``. Autoescaping is on (the text is HTML for Telegram); the terminal unescapes.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, get_timezone_location
from babel.numbers import NumberPattern, parse_pattern
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from dialogs.domain import Account, Channel
from dialogs.locales import DEFAULT_LOCALE, LOCALES
from dialogs.messages import Outbound
from templates import TEMPLATE_DIR

LABELS = "labels.j2"
NUMBERED_CHANNELS = frozenset({Channel.TERMINAL, Channel.WECHAT})


@dataclass(frozen=True, slots=True)
class RenderedButton:
    choice: str
    label: str


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    buttons: tuple[RenderedButton, ...] = ()
    file_name: str | None = None
    request_contact: bool = False  # the question asks for a phone number: offer "share my contact"
    contact_label: str = ""  # the label of that offer, in the recipient's language
    # The outbox rows this message carries and their templates (several when delivery joins a turn's
    # messages): a channel that must say what kind of message waits (WeChat's template messages) reads them.
    keys: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()


MONEY = parse_pattern("#,##0.00")
PERCENT = parse_pattern("0.00")


@functools.cache
def _locale(name: str) -> Locale:
    return Locale.parse(name)


def _number(value: Decimal, pattern: NumberPattern, locale: str) -> str:
    # Babel's format_decimal parses its pattern and locale on every call: a tenth of a render.
    return pattern.apply(value, _locale(locale))


def _as_decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _as_datetime(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _has_time(value: Any) -> bool:
    """A moment, not a calendar day: a datetime, or ISO text with a time after the date."""
    return isinstance(value, datetime) or (isinstance(value, str) and len(value) > 10 and value[10] in "T ")


def noun(count: Any, singular: str, plural_form: str | None = None) -> str:
    """The word that goes with ``count``: "month" for 1, "months" otherwise (Chinese needs no plural)."""
    return singular if _as_decimal(count) == 1 else (plural_form or singular + "s")


def plural(count: Any, singular: str, plural_form: str | None = None) -> str:
    """``count`` with its word, as a person writes it: "1 month", "24 months", "2 people"."""
    return f"{count} {noun(count, singular, plural_form)}"


class Renderer:
    """Renders messages per recipient locale and time zone."""

    def __init__(
        self, directory: Path = TEMPLATE_DIR, channel_commands: Mapping[Channel, Sequence[str]] | None = None
    ) -> None:
        self.directory = directory
        # A channel's own commands (the terminal's /file and /quit): the help lists them only there.
        self.channel_commands = {channel: tuple(names) for channel, names in (channel_commands or {}).items()}
        self.env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,  # templates change with a release (a restart), not under a running bot
        )
        self.env.filters.update(money=self._money, percent=self._percent, day=self._day, moment=self._moment)
        self.env.filters.update(plural=plural, noun=noun)
        self.env.globals["label"] = self._label_in_template
        self._labels: dict[str, Any] = {}

    def template(self, locale: str, name: str) -> Template:
        return self.env.get_template(f"{locale}/{name}.j2")

    def render(self, message: Outbound, recipient: Account) -> Rendered:
        locale = recipient.locale if recipient.locale in LOCALES else DEFAULT_LOCALE
        context = {
            "channel_commands": self.channel_commands.get(recipient.channel, ()),
            # Text channels show choices as numbered lines: only there may a message say "type its number".
            "numbered_choices": recipient.channel in NUMBERED_CHANNELS,
            **message.context,
            "_locale": locale,
            "_tz": recipient.time_zone,
        }
        text = self.template(locale, message.template).render(context).strip()
        buttons = tuple(
            RenderedButton(b.choice, self.label(locale, b.label_template, **b.context))
            for b in message.buttons
        )
        request_contact = bool(message.context.get("request_contact"))
        contact_label = self.label(locale, "share_contact") if request_contact else ""
        keys = (message.key,) if message.key else ()
        return Rendered(
            text, buttons, message.file_name, request_contact, contact_label, keys, (message.template,)
        )

    def document(self, template: str, context: dict[str, Any], locale: str, time_zone: str) -> str:
        """Plain text (a file, not a chat message): rendered, then unescaped."""
        locale = locale if locale in LOCALES else DEFAULT_LOCALE
        values = {**context, "_locale": locale, "_tz": time_zone}
        return html.unescape(self.template(locale, template).render(values).strip())

    def label(self, locale: str, name: str, **context: Any) -> str:
        module = self._labels.get(locale)
        if module is None:
            module = self.env.get_template(f"{locale}/{LABELS}").make_module({"_locale": locale})
            self._labels[locale] = module
        return str(getattr(module, name)(**context)).strip()

    @pass_context
    def _label_in_template(self, context: Context, name: str, **values: Any) -> Markup:
        return Markup(self.label(context["_locale"], name, **values))  # noqa: S704 - a rendered, escaped template

    @pass_context
    def _money(self, context: Context, value: Any) -> str:
        return "¥" + _number(_as_decimal(value), MONEY, context["_locale"])

    @pass_context
    def _percent(self, context: Context, value: Any) -> str:
        return _number(_as_decimal(value) * 100, PERCENT, context["_locale"]) + "%"

    @pass_context
    def _day(self, context: Context, value: Any) -> str:
        """A day; a moment (a datetime, or its ISO text with a time) is the day on the reader's clock, as
        :meth:`_moment` shows it: "with us since" must not name yesterday's UTC date in Beijing's morning."""
        day = _as_date(value)
        if _has_time(value):
            day = _as_datetime(value).astimezone(ZoneInfo(context["_tz"])).date()
        return format_date(day, format="long", locale=context["_locale"])

    @pass_context
    def _moment(self, context: Context, value: Any) -> str:
        """A moment as the reader's clock shows it, always naming the zone: people in different zones
        read the same deadline ("Dec 4, 21:00 Beijing time" / "12月4日 21:00（北京时间）")."""
        locale, zone_name = context["_locale"], context["_tz"]
        zone = ZoneInfo(zone_name)
        local = _as_datetime(value).astimezone(zone)
        return self.label(
            locale,
            "moment",
            day=format_skeleton("MMMd", local, locale=locale),
            time=format_time(local, "HH:mm", locale=locale),
            zone=zone_name,
            place=get_timezone_location(zone, locale=locale),
        )
