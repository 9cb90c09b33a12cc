"""Channel-agnostic flows: each is a set of named steps (see :mod:`dialogs.flows.base`)."""

from __future__ import annotations

from dialogs.flows.base import Flow
from dialogs.flows.finances import FINANCES
from dialogs.flows.hardship import HARDSHIP
from dialogs.flows.home import HOME_FLOW_DEF
from dialogs.flows.language import LANGUAGE
from dialogs.flows.legal import LEGAL
from dialogs.flows.mydata import MYDATA
from dialogs.flows.plans import PLANS
from dialogs.flows.status import STATUS
from dialogs.flows.submit import SUBMIT
from dialogs.flows.verify import VERIFY
from dialogs.flows.welcome import WELCOME

BORROWER_FLOWS: tuple[Flow, ...] = (
    HOME_FLOW_DEF,
    WELCOME,
    VERIFY,
    HARDSHIP,
    FINANCES,
    PLANS,
    SUBMIT,
    STATUS,
    LEGAL,
    MYDATA,
    LANGUAGE,
)

__all__ = ["BORROWER_FLOWS", "Flow"]
