"""Channel-agnostic flows: each is a set of named steps (see :mod:`dialogs.flows.base`)."""

from __future__ import annotations

from dialogs.flows.actions import ACTIONS, COMMANDS
from dialogs.flows.agreement import AGREEMENT
from dialogs.flows.base import Flow
from dialogs.flows.broadcast import BROADCAST
from dialogs.flows.desk import DESK
from dialogs.flows.finances import FINANCES
from dialogs.flows.hardship import HARDSHIP
from dialogs.flows.helpdesk import HELPDESK
from dialogs.flows.home import HOME_FLOW_DEF
from dialogs.flows.language import LANGUAGE
from dialogs.flows.legal import LEGAL
from dialogs.flows.mediate import MEDIATE
from dialogs.flows.mydata import MYDATA
from dialogs.flows.negotiate import NEGOTIATE
from dialogs.flows.payments import PAYMENTS
from dialogs.flows.plans import PLANS
from dialogs.flows.review import INFO, REVIEW
from dialogs.flows.staff import STAFF
from dialogs.flows.staff_data import STAFF_DATA
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

# The lender's and the mediator's flows; negotiation and the agreement are shared with the borrower.
STAFF_FLOWS: tuple[Flow, ...] = (
    STAFF,
    REVIEW,
    MEDIATE,
    DESK,
    NEGOTIATE,
    AGREEMENT,
    INFO,
    HELPDESK,
    PAYMENTS,
    BROADCAST,
    STAFF_DATA,
)
ALL_FLOWS = BORROWER_FLOWS + STAFF_FLOWS

__all__ = ["ACTIONS", "ALL_FLOWS", "BORROWER_FLOWS", "COMMANDS", "STAFF_FLOWS", "Flow"]
