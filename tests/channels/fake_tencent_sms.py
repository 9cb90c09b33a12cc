"""A fake Tencent Cloud SMS endpoint on 127.0.0.1 that speaks API 3.0 JSON as the real one does.

It checks what the real one checks first: a TC3-HMAC-SHA256 ``Authorization`` whose signature is right for
the secret key, the action ``SendSms`` and its version; then answers with the real response shape
(``Response.SendStatusSet`` with ``Code`` "Ok" or the error code set in ``status``), or an ``Error``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SECRET_ID = "AKIDfake0000000000000000000000000000"
SECRET_KEY = "fake-secret-key-0000000000000000"
_AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/sms/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass
class FakeTencentSms:
    status: str = "Ok"  # what SendStatus.Code says for each number
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> FakeTencentSms:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        await asyncio.sleep(self.delay)
        problem = _auth_problem(request, body)
        if problem is not None:
            return _error("AuthFailure.SignatureFailure", problem)
        if (
            request.headers.get("X-TC-Action") != "SendSms"
            or request.headers.get("X-TC-Version") != "2021-01-11"
        ):
            return _error("InvalidAction", "only SendSms 2021-01-11 is served here")
        params = json.loads(body)
        self.requests.append({"headers": dict(request.headers), "params": params})
        return _json({"Response": {"SendStatusSet": self._statuses(params), "RequestId": "req-1"}})

    def _statuses(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "SerialNo": "2028:0000000000000000",
                "PhoneNumber": number,
                "Fee": 1 if self.status == "Ok" else 0,
                "SessionContext": "",
                "Code": self.status,
                "Message": "send success" if self.status == "Ok" else "refused",
                "IsoCode": "CN",
            }
            for number in params.get("PhoneNumberSet", [])
        ]


def _auth_problem(request: web.Request, body: bytes) -> str | None:
    match = _AUTH.match(request.headers.get("Authorization", ""))
    if match is None:
        return "the Authorization header is not TC3-HMAC-SHA256"
    if match["id"] != SECRET_ID:
        return "unknown secret id"
    signed = match["signed"].split(";")
    headers = "".join(f"{name}:{request.headers.get(name, '')}\n" for name in signed)
    canonical = "\n".join(["POST", "/", "", headers, match["signed"], hashlib.sha256(body).hexdigest()])
    scope = f"{match['date']}/sms/tc3_request"
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            request.headers["X-TC-Timestamp"],
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _hmac(_hmac(_hmac(f"TC3{SECRET_KEY}".encode(), match["date"]), "sms"), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, match["signature"]) else "the signature does not match"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _error(code: str, message: str) -> web.Response:
    # As Tencent does: HTTP 200, the error in the body.
    return _json({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "req-e"}})


def _json(document: dict[str, Any]) -> web.Response:
    # Exactly "application/json", as Tencent sends it: the SDK reads errors only under that content type.
    return web.Response(body=json.dumps(document).encode(), headers={"Content-Type": "application/json"})
