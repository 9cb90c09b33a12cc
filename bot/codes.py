"""One-time code senders: the development one writes the code to the log; SMS providers plug in here.

A real sender (:mod:`bot.sms`) sends through :class:`AfterReply`: the SMS leaves once the turn that drew the
code has committed and replied, off the turn. So the reply to details that match a loan takes no longer
than the reply to details that do not (the provider's round trip is not in it), no batch of other people's
turns waits on the provider, and a code is never sent for a turn that was rolled back. A send that fails
re-enters through the front door (:func:`dialogs.unsent_codes.code_not_sent`): the person is told kindly.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence

from dialogs.engine import Engine
from dialogs.masking import mask_phone
from dialogs.messages import Queued
from dialogs.ports import CodeSender
from dialogs.unsent_codes import code_not_sent

log = logging.getLogger("loanbridge.codes")

Deliver = Callable[[Sequence[Queued]], None]


class CodeNotSent(Exception):
    """The provider did not take the SMS (refused it, failed, or did not answer in time)."""


class LogCodeSender:
    """Development only: the code goes to the log (the phone masked), where the person trying it sees it."""

    async def send_code(self, phone: str, code: str, *, account_id: int = 0) -> None:
        log.warning("one-time code for %s: %s (development sender: no SMS was sent)", mask_phone(phone), code)


class AfterReply:
    """Sends codes through ``sender`` once their turn has committed; see the module docstring."""

    def __init__(self, sender: CodeSender) -> None:
        self.sender = sender
        self.engine: Engine | None = None  # set once built: a failed send re-enters through it
        self._pending: dict[int, list[tuple[str, str]]] = {}
        self._sending: set[asyncio.Task[None]] = set()

    async def send_code(self, phone: str, code: str, *, account_id: int) -> None:
        self._pending.setdefault(account_id, []).append((phone, code))

    def after_commit(self, deliver: Deliver) -> Deliver:
        """Wrap the engine's hand-over (called once a batch committed) to release the codes it drew."""

        def handed_over(queued: Sequence[Queued]) -> None:
            deliver(queued)
            # Every turn that drew a code replied to its sender: their reply is in this committed batch.
            for account_id in {item.recipient.id for item in queued}:
                for phone, code in self._pending.pop(account_id, []):
                    self._start(account_id, phone, code)

        return handed_over

    def _start(self, account_id: int, phone: str, code: str) -> None:
        task = asyncio.get_running_loop().create_task(self._send(account_id, phone, code))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, account_id: int, phone: str, code: str) -> None:
        try:
            await self.sender.send_code(phone, code, account_id=account_id)
        except CodeNotSent as error:
            log.warning("a one-time code to %s could not be sent: %s", mask_phone(phone), error)
            await self._tell(account_id, code)
        except Exception as error:  # only the kind of failure: what it carries might hold the code
            log.warning(
                "a one-time code to %s could not be sent (%s)", mask_phone(phone), type(error).__name__
            )
            await self._tell(account_id, code)

    async def _tell(self, account_id: int, code: str) -> None:
        if self.engine is not None:
            key = f"code-not-sent:{secrets.token_hex(8)}"  # the code itself is kept out of the key
            await self.engine.run_system(account_id, key, code_not_sent(code))

    async def drain(self) -> None:
        """Wait for the codes being sent (at shutdown: a code handed over is not dropped)."""
        await asyncio.gather(*self._sending, return_exceptions=True)
