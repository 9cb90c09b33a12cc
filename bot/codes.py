"""One-time code senders: the development one writes the code to the log; an SMS provider plugs in here."""

from __future__ import annotations

import logging

from dialogs.masking import mask_phone

log = logging.getLogger("loanbridge.codes")


class LogCodeSender:
    """Development only: the code goes to the log (the phone masked), where the person trying it sees it."""

    async def send_code(self, phone: str, code: str) -> None:
        log.warning("one-time code for %s: %s (development sender: no SMS was sent)", mask_phone(phone), code)
