"""What flows through the engine: an ``Inbound`` from any channel, ``Outbound`` replies to any recipient."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from dialogs.domain import Account, Channel


class InboundKind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    CHOICE = "choice"  # a button press: payload is the button's choice id
    CONTACT = "contact"  # a shared phone contact: payload is the number, ``extra["own"]`` whose it is
    FILE = "file"  # a photo or document: ``extra`` carries name, mime type, size, sha256, storage ref
    UNSUPPORTED = "unsupported"  # stickers, voice, locations...: answered kindly, changes nothing


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message or event from a person, in the core's own terms."""

    channel: Channel
    user_id: str
    chat_id: str
    key: str  # idempotency key: Telegram update_id, WeChat MsgId or event key
    kind: InboundKind
    payload: str = ""
    locale_hint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Button:
    choice: str  # short id, verified against the conversation when pressed
    label_template: str  # a template name, rendered per recipient locale
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outbound:
    """A reply or notification: a template and its context, rendered per recipient locale by the edge."""

    account_id: int
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()
    key: str = ""
    # When set, channels deliver the rendered text as a document of this name (an export, an agreement).
    file_name: str | None = None
    # Held until then (collection-conduct hours): the outbox keeps it, delivery releases it when due.
    not_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class Queued:
    """An outbound message committed to the outbox, with the recipient a channel needs to reach."""

    key: str  # the outbox row's unique key
    recipient: Account
    message: Outbound


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """A message to a case's borrower that the conduct window holds in the outbox until ``not_before``."""

    id: int  # the outbox row, as a mediator's "cancel" button names it
    case_id: int
    recipient_id: int
    template: str
    not_before: datetime
    context: dict[str, Any]  # what it will say (the relayed words, the offer's terms)
