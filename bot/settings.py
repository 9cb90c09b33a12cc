"""Settings from the environment or a ``.env`` file, under the names of DESIGN §7.

A bad or missing setting stops start-up with one line naming it (:class:`SettingsError`), never a traceback.
"""

from __future__ import annotations

import base64
import json
import tomllib
from datetime import time
from decimal import Decimal
from typing import Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dialogs.errors import DomainError
from dialogs.rules.interest import DEFAULT_LICENSED_LEVEL, DEFAULT_LPR_HISTORY_TEXT, LprHistory
from dialogs.rules.reminders import parse_offsets
from storage.crypto import decode_secret
from storage.db import async_url
from storage.signing import decode_signing_key

PREFIX = "LOANBRIDGE_"


class SettingsError(Exception):
    """One clear line naming the setting that stops start-up."""


def _host_port(value: str | None) -> str | None:
    if value is None:
        return None
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, such as 127.0.0.1:8080, got {value!r}")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", extra="ignore")

    database_url: str = "sqlite:///loanbridge.db"
    secret_key: SecretStr | None = None
    # During a key rotation: the previous key(s), comma-separated, still accepted for reading.
    old_secret_keys: SecretStr | None = None
    # The platform's Ed25519 key that signs the case log's tree heads and agreements (storage.signing):
    # base64 of its 32 bytes or a PEM private key; never the secret key. Generated beside SQLite if unset.
    signing_key: SecretStr | None = None
    timezone: str = "Asia/Shanghai"
    # Where `loanbridge chat` saves the documents it receives (agreements, /mydata), one folder per user;
    # default ~/LoanBridge. The terminal says the full path of each file it saves.
    terminal_files: str | None = None
    lpr_history: str = DEFAULT_LPR_HISTORY_TEXT
    # The yearly financing-cost level licensed lenders are held to (DESIGN §4), a fraction: 0.24 is 24 %.
    licensed_rate_level: Decimal = Field(default=DEFAULT_LICENSED_LEVEL, gt=0, lt=1)
    # What someone who asks to talk to a person is promised: an answer within this many working days.
    mediator_answer_days: int = Field(default=1, ge=1, le=30)
    # A running plan: days an instalment may stay unpaid before the agreement is in breach (defaulted), and
    # how many missed instalments a borrower may move to the end of the plan (DESIGN §3, §4).
    grace_days: int = Field(default=15, ge=1, le=90)
    tolerance_moves: int = Field(default=1, ge=0, le=12)

    # Instalment reminders: days from the due date (negative: before), at this local time of the borrower's
    # day; lenders' staff get the day before's digest at this time (LOANBRIDGE_TIMEZONE's clock).
    reminder_days: str = "-3,0,1,7"
    reminder_time: time = time(10)
    digest_time: time = time(9)
    # Collection conduct (DESIGN §4): the borrower's local hours, and collection messages a local day.
    send_window_start: time = time(8)
    send_window_end: time = time(21)
    collection_daily_cap: int = Field(default=3, ge=1, le=20)
    # Off when a separate `loanbridge scheduler` process runs the scheduled work for several bot processes.
    run_scheduler: bool = True

    telegram_token: SecretStr | None = None
    telegram_lib: Literal["ptb", "aiogram"] = "ptb"
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # Telegram's limits: messages a second for the whole bot, and for one chat (after a short burst).
    telegram_rate: float = Field(default=30.0, gt=0, le=1000)
    telegram_chat_rate: float = Field(default=1.0, gt=0, le=1000)

    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_token: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_api_url: str = "https://api.weixin.qq.com"
    wechat_listen: str | None = None
    # Template message ids per kind of message (offer, deadline, reminder, broadcast, default), as a JSON
    # object or TOML table: what tells a person outside the 48-hour window to open the chat.
    wechat_templates: str | None = None
    # Seconds a callback waits for the turn's reply to answer it passively (WeChat waits 5).
    wechat_reply_budget: float = Field(default=3.0, gt=0, le=4.5)
    # Customer-service messages a second for the whole account, and for one person (after a short burst).
    wechat_rate: float = Field(default=20.0, gt=0, le=1000)
    wechat_user_rate: float = Field(default=1.0, gt=0, le=1000)

    # One-time codes: "log" (development: to the log; serve needs it set explicitly) or "tencent" (SMS).
    sms: Literal["log", "tencent"] | None = None
    tencent_secret_id: str | None = None
    tencent_secret_key: SecretStr | None = None
    sms_app_id: str | None = None  # the SDK app id (SmsSdkAppId), such as 1400006666
    sms_sign_name: str | None = None  # the approved signature, such as 腾讯云
    sms_template_id: str | None = None  # an approved template: {1} the code, {2} its minutes
    sms_endpoint: str = "sms.tencentcloudapi.com"  # host or URL (the tests' fake: http://127.0.0.1:PORT)
    sms_region: str = "ap-guangzhou"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            async_url(value)
        except DomainError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                decode_secret(value.get_secret_value())
            except DomainError as error:
                raise ValueError(str(error).removeprefix(PREFIX + "SECRET_KEY ")) from None
        return value

    @field_validator("signing_key")
    @classmethod
    def _signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                decode_signing_key(value.get_secret_value())
            except DomainError as error:
                raise ValueError(str(error).removeprefix(PREFIX + "SIGNING_KEY ")) from None
        return value

    @field_validator("old_secret_keys")
    @classmethod
    def _old_secret_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                _old_secrets(value)
            except DomainError as error:
                raise ValueError(str(error).removeprefix(PREFIX + "OLD_SECRET_KEYS ")) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)"
            ) from None
        return value

    @field_validator("lpr_history")
    @classmethod
    def _lpr_history(cls, value: str) -> str:
        try:
            LprHistory.parse(value)
        except DomainError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("reminder_days")
    @classmethod
    def _reminder_days(cls, value: str) -> str:
        try:
            parse_offsets(value)
        except DomainError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("send_window_end")
    @classmethod
    def _send_window(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("send_window_start")
        if start is not None and not start < value:
            raise ValueError(f"the window must end after it starts ({start:%H:%M}), got {value:%H:%M}")
        return value

    @field_validator("sms_app_id", "sms_template_id")
    @classmethod
    def _sms_number(cls, value: str | None) -> str | None:
        if value is not None and value.strip() and not value.strip().isdigit():
            raise ValueError(f"expected the number the Tencent Cloud SMS console shows, got {value!r}")
        return value

    @field_validator("sms_endpoint")
    @classmethod
    def _sms_endpoint(cls, value: str) -> str:
        parsed = urlparse(value if "://" in value else f"https://{value}")
        if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path not in ("", "/"):
            raise ValueError(
                f"expected a host such as sms.tencentcloudapi.com, or an http(s) URL, got {value!r}"
            )
        return value

    @field_validator("wechat_templates")
    @classmethod
    def _wechat_templates(cls, value: str | None) -> str | None:
        wechat_template_ids(value)
        return value

    @field_validator("wechat_api_url")
    @classmethod
    def _wechat_api_url(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"expected an http(s) URL such as https://api.weixin.qq.com, got {value!r}")
        return value

    @field_validator("wechat_aes_key")
    @classmethod
    def _wechat_aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _is_aes_key(value.get_secret_value()):
            raise ValueError("expected the 43-character EncodingAESKey the WeChat console shows")
        return value

    @field_validator("telegram_webhook_listen", "wechat_listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        return _host_port(value)

    @property
    def lpr(self) -> LprHistory:
        return LprHistory.parse(self.lpr_history)

    @property
    def wechat_template_ids(self) -> dict[str, str]:
        return wechat_template_ids(self.wechat_templates)

    @property
    def old_secrets(self) -> list[bytes]:
        return _old_secrets(self.old_secret_keys) if self.old_secret_keys else []


WECHAT_NOTICE_KINDS = ("offer", "deadline", "reminder", "broadcast", "default")


def wechat_template_ids(text: str | None) -> dict[str, str]:
    """``LOANBRIDGE_WECHAT_TEMPLATES``: a JSON object or TOML table of kind → template id, the kinds among
    :data:`WECHAT_NOTICE_KINDS`. Raises ValueError saying what is wrong."""
    if not text or not text.strip():
        return {}
    try:
        parsed = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except ValueError as error:  # JSONDecodeError and TOMLDecodeError are both ValueErrors
        raise ValueError(f"expected a JSON object or TOML table of kind = template id ({error})") from None
    unknown = sorted(set(parsed) - set(WECHAT_NOTICE_KINDS)) if isinstance(parsed, dict) else []
    if not isinstance(parsed, dict) or unknown:
        named = f"unknown kind {unknown[0]!r}; " if unknown else ""
        raise ValueError(f"{named}expected kinds among {', '.join(WECHAT_NOTICE_KINDS)} = template id")
    if not all(isinstance(v, str) and v.strip() for v in parsed.values()):
        raise ValueError("every template id must be a non-empty string")
    return {str(k): str(v).strip() for k, v in parsed.items()}


def _is_aes_key(value: str) -> bool:
    try:
        return len(value) == 43 and len(base64.b64decode(value + "=", validate=True)) == 32
    except ValueError:
        return False


def _old_secrets(value: SecretStr) -> list[bytes]:
    # Keys being retired may be weak (that can be why they go): only their length is checked.
    texts = [part for part in value.get_secret_value().split(",") if part.strip()]
    return [decode_secret(text, name=PREFIX + "OLD_SECRET_KEYS", strong=False) for text in texts]


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning the first validation problem into one line naming its variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = PREFIX + "_".join(str(part) for part in first["loc"]).upper()
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
