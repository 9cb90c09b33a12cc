"""Tencent Cloud SMS: one-time codes to phones in production (``LOANBRIDGE_SMS=tencent``).

The SDK (``tencentcloud-sdk-python-sms``) signs each request (TC3-HMAC-SHA256) and is synchronous: a send
runs in a worker thread, bounded by a timeout, so the event loop never waits on Tencent. The SMS template
approved in the Tencent console takes the code as ``{1}`` and the minutes it is valid as ``{2}``.
Codes never reach the log here: a failure is logged with its error code only.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from tencentcloud.common.abstract_client import LOGGER_NAME as SDK_LOGGER
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111.models import SendSmsRequest
from tencentcloud.sms.v20210111.sms_client import SmsClient

from bot.codes import AfterReply, CodeNotSent, LogCodeSender
from bot.settings import Settings, SettingsError
from dialogs.flows.verify import CODE_LIFETIME
from dialogs.masking import mask_phone

log = logging.getLogger("loanbridge.sms")

TIMEOUT_SECONDS = 10
_OK = "Ok"  # SendStatus.Code of an SMS Tencent accepted


@dataclass(frozen=True, slots=True)
class TencentConfig:
    secret_id: str
    secret_key: str
    app_id: str
    sign_name: str
    template_id: str
    endpoint: str = "sms.tencentcloudapi.com"  # host, or a URL (http:// for a local fake in tests)
    region: str = "ap-guangzhou"


class TencentSms:
    """A :class:`dialogs.ports.CodeSender` through Tencent Cloud SMS; raises :class:`CodeNotSent`."""

    def __init__(self, config: TencentConfig, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._config = config
        self._timeout = timeout
        _quiet_sdk()

    async def send_code(self, phone: str, code: str, *, account_id: int = 0) -> None:
        try:
            status = await asyncio.wait_for(asyncio.to_thread(self._send, phone, code), self._timeout)
        except TimeoutError:
            raise CodeNotSent(f"no answer from Tencent Cloud SMS in {self._timeout:g} s") from None
        except TencentCloudSDKException as error:
            raise CodeNotSent(f"Tencent Cloud SMS refused the request: {error.get_code()}") from None
        if status.get("Code") != _OK:
            raise CodeNotSent(f"Tencent Cloud SMS did not send it: {status.get('Code')}")
        log.info("one-time code sent by SMS to %s", mask_phone(phone))

    def _send(self, phone: str, code: str) -> dict[str, Any]:
        """In a worker thread: the SDK's blocking call; the status of the one number sent to."""
        request = SendSmsRequest()
        request.PhoneNumberSet = [phone]
        request.SmsSdkAppId = self._config.app_id
        request.SignName = self._config.sign_name
        request.TemplateId = self._config.template_id
        request.TemplateParamSet = [code, str(int(CODE_LIFETIME.total_seconds() // 60))]
        response = self._client().SendSms(request)
        statuses = response.SendStatusSet or []
        return {"Code": statuses[0].Code, "Message": statuses[0].Message} if statuses else {}

    def _client(self) -> SmsClient:
        endpoint = self._config.endpoint
        parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
        # The SDK's own timeout is whole seconds: never below ours, which is what the caller waits.
        http = HttpProfile(endpoint=parsed.netloc, reqTimeout=math.ceil(self._timeout))
        http.scheme = parsed.scheme
        credential = Credential(self._config.secret_id, self._config.secret_key)
        return SmsClient(credential, self._config.region, ClientProfile(httpProfile=http))


def _below_warning(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def _quiet_sdk() -> None:
    """The SDK logs each request and response at DEBUG, the code among the template parameters: drop those
    records whatever level the log runs at (a filter, not a level, so no later configuration lets them by)."""
    sdk = logging.getLogger(SDK_LOGGER)
    if _below_warning not in sdk.filters:
        sdk.addFilter(_below_warning)


def tencent_config(settings: Settings) -> TencentConfig:
    """The Tencent settings, or one line naming the first one missing."""
    secret_key = settings.tencent_secret_key.get_secret_value() if settings.tencent_secret_key else None
    return TencentConfig(
        secret_id=_required("TENCENT_SECRET_ID", settings.tencent_secret_id),
        secret_key=_required("TENCENT_SECRET_KEY", secret_key),
        app_id=_required("SMS_APP_ID", settings.sms_app_id),
        sign_name=_required("SMS_SIGN_NAME", settings.sms_sign_name),
        template_id=_required("SMS_TEMPLATE_ID", settings.sms_template_id),
        endpoint=settings.sms_endpoint,
        region=settings.sms_region,
    )


def _required(name: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise SettingsError(f"LOANBRIDGE_{name}: required with LOANBRIDGE_SMS=tencent")
    return value.strip()


def serve_code_sender(settings: Settings) -> AfterReply:
    """What ``loanbridge serve`` sends codes with: Tencent, or the log only when chosen (with a warning)."""
    if settings.sms is None:
        raise SettingsError(
            "LOANBRIDGE_SMS: not set; set it to tencent (with LOANBRIDGE_TENCENT_SECRET_ID, _SECRET_KEY,"
            " LOANBRIDGE_SMS_APP_ID, _SIGN_NAME and _TEMPLATE_ID) to send codes by SMS, or to log to write"
            " them to the log (development only)"
        )
    if settings.sms == "log":
        log.warning("LOANBRIDGE_SMS=log: one-time codes go to this log, not by SMS (development only)")
        return AfterReply(LogCodeSender())
    return AfterReply(TencentSms(tencent_config(settings)))
