"""Where a person is in a dialog: ``(flow, step, data)``, stored each turn so a restart resumes there."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HOME_FLOW = "home"
HOME_STEP = "menu"


@dataclass(slots=True)
class Conversation:
    """Mutable during one turn; ``data`` holds only JSON values (strings for money, ISO text for dates)."""

    account_id: int
    flow: str = HOME_FLOW
    step: str = HOME_STEP
    data: dict[str, Any] = field(default_factory=dict)
    case_id: int | None = None
    wrong_answers: int = 0

    @property
    def at_home(self) -> bool:
        return self.flow == HOME_FLOW
