from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.dialogs.harness import Bot, running_bot


@pytest.fixture
async def bot(database_url: str, clock: Any) -> AsyncIterator[Bot]:
    async with running_bot(database_url, clock) as running:
        yield running
