"""Every template exists in every locale and renders there with sample data; the code names no missing one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jinja2 import meta

from bot.rendering import LABELS, Renderer
from dialogs.domain import Account, Channel, Role
from dialogs.flows.finances import NAMES as FIELD_NAMES
from dialogs.lifecycle import CaseState
from dialogs.locales import LOCALES
from dialogs.messages import Outbound
from templates import TEMPLATE_DIR

PLAN = {
    "kind": "term_extension_equal_instalment",
    "months": 24,
    "monthly_amount": "820.55",
    "last_amount": "820.60",
    "total_repaid": "19693.10",
    "amount_waived": "120.00",
    "holiday_months": 3,
    "affordable": True,
    "void_if_missed": True,
    "own_terms": False,
    "annual_rate": "0.138",
    "above_protected": "1234.56",
}
INTEREST = {
    "rule": "private",
    "lender_kind": "private",
    "protected": "0.138",
    "lpr": "0.0345",
    "indicative": False,
    "simple": "0.24",
    "apr": "0.2682",
    "above": True,
    "over_cap": "1234.56",
    "charges_over_cap": "10.00",
}
FIGURES = dict.fromkeys(FIELD_NAMES, "100.00")
CASE = {
    "id": 7,
    "state": "negotiating",
    "lender": "Demo Lender",
    "ref": "DEMO-0001",
    "offer": {
        "id": 3,
        "round": 2,
        "proposer": "lender",
        "status": "pending",
        "terms": {**PLAN, "kind": "discounted_settlement", "months": 1, "monthly_amount": "9000.00"},
        "deadline_at": "2026-12-01T10:00:00+00:00",
        "made_at": "2026-11-28T10:00:00+00:00",
        "decided_at": None,
        "accepted_by": [],
    },
    "next": {"number": 2, "due": "2026-12-02", "amount": "1200.00"},
    "timeline": [
        {
            "at": "2026-11-02T09:30:00+00:00",
            "kind": "transition",
            "to_state": "submitted",
            "by": None,
            "times": 1,
        },
        {
            "at": "2026-11-02T09:30:00+00:00",
            "kind": "offer_made",
            "to_state": None,
            "by": "lender",
            "times": 2,
        },
    ],
}
BRIEF = {
    "id": 7,
    "state": "submitted",
    "name": "张*",
    "id_number": "110***********1239",
    "phone": "138****5678",
    "lender": "Demo Lender",
    "ref": "DEMO-0001",
    "owed": "15841.95",
    "overdue_days": 45,
    "reason": "job_loss",
    "lasting": False,
    "description": "I lost my job <b>in October</b>.",
    "finances": {"income": "6500.00", "essential": "4450.00", "other_debts": "0.00", "savings": "2000.00"},
    "evidence": [{"name": "letter.pdf", "sha256": "0123456789ab"}],
    "plan": PLAN,
    "risk": {"grade": "B", "score": 30, "factors": [{"code": "dti", "value": "0.1224", "points": 0}]},
    "apr": "0.2682",
    "protected": "0.138",
    "above": True,
    "interest": INTEREST,
    "contract_rate": "0.24",
    "balance": {"principal": "12000.00", "interest": "2400.00", "penalty": "1200.00", "fees": "241.95"},
    "affordable": "1025.00",
    "questions": [
        {"kind": "info_request", "at": "2026-11-02T09:30:00+00:00", "text": "Your letter?"},
        {
            "kind": "info_reply",
            "at": "2026-11-02T10:30:00+00:00",
            "text": "📎 letter.pdf sha256 0123456789ab…",
        },
    ],
    "offers": [CASE["offer"], {**CASE["offer"], "status": "countered"}],
}
ENTRY = {
    "id": 7,
    "state": "negotiating",
    "days": 3,
    "deadline_at": "2026-12-01T10:00:00+00:00",
    "lender": "Demo Lender",
    "owed": "15841.95",
    "grade": "B",
}
PLAN_LEFT = {"left": "13121.55", "next": {"number": 2, "due": "2027-01-02", "amount": "391.28"}}
PLAN_DONE = {"left": "0", "next": None}
SAMPLES: dict[str, Any] = {
    # An operator broadcast: the recipient's case figures, and the report to whoever sent it.
    "case_state": "active",
    "instalment": {"number": 3, "due_date": "2026-12-05", "amount": "820.55", "overdue": False},
    "broadcast": 4,
    "sent": 1180,
    "failed": 2,
    "skipped": 41,
    "status": "running",
    "segment": "due:7",
    "groups": [
        {"channel": "telegram", "locale": "zh_CN", "count": 1180},
        {"channel": "wechat", "locale": "en", "count": 6},
    ],
    "outside": 3,
    "opted_out": 41,
    "unreachable": 2,
    "in_segment": 1233,  # a broadcast's preview: who the segment names,
    "reached": 1186,  # and who of them will get it
    "already_waiting": 4,  # the same message already waits for them (skipped)
    "waiting_in": "2, 3",
    "to_go": 120,
    "waiting_hours": 3,
    "starts_at": "2026-12-24T01:00:00+00:00",  # a broadcast's later start (--at)
    "sample_locale": "zh_CN",  # a broadcast's sample, rendered in that language
    "sample_text": "A note from LoanBridge, the free mediation service for online loans.",
    "state": "draft",
    "role": "lender",
    "kept": [3],
    "command": "frobnicate",
    "example": "3500",
    "limit": 2000,
    "length": 2500,
    "maximum": 360,
    "minimum": 1,
    "limit_mb": 20,
    "channel_commands": ("file", "quit"),
    "path": "~/Documents/letter.pdf",
    "visible_cases": [3, 1],
    "activity": {
        "payments_reported": 5,
        "payments_waiting": 1,
        "payments_confirmed": 3,
        "payments_disputed": 1,
        "payments_rejected": 0,
        "moves": 1,
        "breaches": 1,
        "completions": 2,
        "broadcasts": 2,
        "broadcasts_done": 1,
    },
    "plan_left": PLAN_LEFT,
    "stored_files": [
        {"name": "receipt.jpg", "mime": "image/jpeg", "size": 480, "where": "telegram:f-17", "sha256": "ab"},
        {"name": None, "mime": None, "size": 0, "where": "/srv/loanbridge/files/3.pdf", "sha256": "cd" * 6},
    ],
    "typed_total": "5300.00",
    "plan_most": "5210.00",
    "plan_months": 10,
    "plan_kind": "interest_stopped_instalments",
    "raised_from": "5205.00",
    "staff_view": False,
    "remaining": 2,
    "phone": "138****5678",
    "lender": "Demo Lender",
    "ref": "DEMO-0001",
    "owed": "15841.95",
    "resumed": True,
    "count": 2,
    "name": "张*",
    "figures": FIGURES,
    "essential": "4450.00",
    "disposable": "2050.00",
    "affordable": "1025.00",
    "options": [
        PLAN,
        {**PLAN, "affordable": False, "holiday_months": 0, "kind": "discounted_settlement", "months": 1},
    ],
    "nothing_affordable": False,
    "shortfall": "2800.50",
    "current_reason": "job_loss",
    "current_lasting": False,
    "current_description": "I lost my job <b>in October</b>.",
    "written": "张伟 <b>Zhang</b>",
    "current_how": "threats",
    "numbered_choices": True,
    "below": True,
    "lines_below": 3,
    "os_error": "Permission denied",
    "kilobytes": 56,
    "again": False,
    "file_name_sent": "loanbridge-my-data.json",
    "sent_as": "agreement-7-v2-signed.txt",
    "size": 12345,
    "at": "2026-12-02 07:00:01 UTC+08:00 (Asia/Shanghai)",
    "checked_entries": 12345,
    "checked_heads": 12,
    "platform_key": "1a2b 3c4d 5e6f",
    "latest_head": {"size": 12345, "at": "2026-12-01T10:06:00.000000Z"},
    "log_ok": True,
    "problems": [
        {"problem": "head_key", "case": None, "seq": None, "size": 9, "key": "1a2b3c4d5e6f7a8b"},
        {
            "problem": "head_signature",
            "case": None,
            "seq": None,
            "size": 9,
            "at": "2026-12-01T10:06:00.000000Z",
        },
        {"problem": "positions_missing", "case": None, "seq": None, "first": 4, "last": 6},
        {
            "problem": "heads_unmatched",
            "case": None,
            "seq": None,
            "size": 9,
            "at": "2026-12-01T10:06:00Z",
            "later": 2,
        },
        {"problem": "head_beyond", "case": None, "seq": None, "size": 9},
        {"problem": "heads_inconsistent", "case": None, "seq": None, "old": 9, "new": 12},
        {"problem": "copy_altered", "case": 1, "seq": 3},
        {"problem": "removed", "case": 1, "seq": 4},
        {"problem": "missing_with_place", "case": 1, "seq": 5},
        {"problem": "missing_everywhere", "case": 1, "seq": 6},
        {"problem": "outside", "case": 1, "seq": 7},
        {"problem": "swapped", "case": 1, "seq": 8, "other_case": 1, "other_seq": 9},
        {"problem": "changed", "case": 1, "seq": 10, "fields": ["at", "details"]},
    ],
    "done": 20000,
    "fingerprint": "1a2b 3c4d 5e6f",
    "filing": {"who": "Wang <b>", "when": "Monday", "how": "threats", "details": None, "evidence": True},
    "needed": "820.55",
    "months": 24,
    "plan": PLAN,
    "id_number": "110***********1239",
    "reason": "job_loss",
    "dispute": "wrong_amount",
    "lasting": False,
    "evidence": 1,
    "finances": {"income": "6500.00", "essential": "4450.00", "other_debts": "0.00", "savings": "2000.00"},
    "case_id": 7,
    "no_plan": False,
    "cases": [CASE],
    "contract_rate": "0.24",
    "apr": "0.2682",
    "simple": "0.24",
    "protected": "0.138",
    "lpr": "0.0345",
    "above": True,
    "over_cap": "1234.56",
    "charges_over_cap": "10.00",
    "indicative": False,
    "rule": "private",
    "lender_kind": "private",
    "plan_rate": "0.138",
    "above_limit": "1276.74",
    "most": "14565.21",
    "translation": "REPAYMENT AGREEMENT (translation)",
    "binding_locale": "zh_CN",
    "waiver_share": "0.5",
    "licensed_level": "0.24",
    "number": 3,
    "document": '{"account": {}}',
    "erased": ["finances"],
    "lenders_loans": ["DEMO-0001"],
    "lockout_kept": True,
    "request_contact": True,
    "case": BRIEF,
    "offers": [CASE["offer"]],
    "history": [
        {**CASE["offer"], "status": "countered", "decided_at": "2026-11-29T10:00:00+00:00"},
        {**CASE["offer"], "status": "rejected", "decided_at": "2026-11-30T10:00:00+00:00"},
    ],
    "offer": CASE["offer"],
    "side": "borrower",
    "agreement_version": 2,
    "bid_open": True,
    "deadline_at": "2026-12-01T10:00:00+00:00",
    "held_until": "2026-12-02T00:00:00+00:00",  # 08:00 Beijing time: lender words held to the morning
    "confirmations": [{"side": "borrower", "at": "2026-12-01T10:00:00+00:00", "who": "张*"}],
    "bound": "9000.00",
    "savings": "2000.00",
    "hinted": True,
    "listed": [
        {"id": 3, "state": "withdrawn", "why": "erased", "reason": None},
        {"id": 2, "state": "closed", "why": "closed", "reason": "Paid in full"},
    ],
    "terms": PLAN,
    "older": PLAN,
    "newer": PLAN,
    "words": "Please call our office <tomorrow>.",
    "why": "round_limit",
    "sender": "lender",
    "close": True,
    "amount": "9000.00",
    "version": 2,
    "given": 1,
    "current": 2,
    "confirmed": True,
    # The agreement text with the platform's signed block below it (storage.signed_agreement)
    "signed": "REPAYMENT AGREEMENT\n\n-----BEGIN LOANBRIDGE SIGNATURE-----\ncase: 1\n"
    "-----END LOANBRIDGE SIGNATURE-----",
    "hash": "e2ad9d99028fba8a8299ada16ce1de2a1adfd27eb795cdf494490d9dec9a7717",
    "file_name": "agreement-7-v2.txt",
    "parts": 3,
    "notice_kind": "offer",
    "info": [{"kind": "info_request", "at": "2026-11-02T09:30:00+00:00", "text": "Your letter?"}],
    "waiting": "borrower_info",
    "question": "Could you send your termination letter?",
    "queue": 2,
    "stuck": 1,
    "asking": 1,
    "changed": "budget",
    "lenders": ["Demo Lender", "示范贷款公司"],
    "staff_you": {  # /mydata for staff: their own account
        "channel": "telegram",
        "user": "leo",
        "role": "lender",
        "lender": "Demo Lender",
        "language": "en",
        "time_zone": "Asia/Shanghai",
        "created_at": "2026-11-02T09:30:00+00:00",
    },
    "staff_messages": 3,
    "staff_decisions": 2,
    "staff_disputes": 1,
    "staff_offers": 1,
    "staff_actions": 9,
    "staff_help": 0,
    "staff_broadcasts": 0,
    "digest_at": "09:00",
    "digest_zone": "Asia/Shanghai",
    "you": {
        "channel": "telegram",
        "user": "123456",
        "language": "zh_CN",
        "time_zone": "Asia/Shanghai",
        "consented_at": "2026-11-02T09:30:00+00:00",
        "created_at": "2026-11-02T09:30:00+00:00",
    },
    "applications": [
        {
            "id": 7,
            "state": "negotiating",
            "created_at": "2026-11-02T09:30:00+00:00",
            "erased": False,
            "loan": {
                "loan_ref": "DEMO-0001",
                "borrower_name": "张伟",
                "id_number": "110105199003071239",
                "phone": "13812345678",
                "outstanding_principal": "14321.55",
            },
            "hardship": {"reason": "job_loss", "lasting": False, "description": "I lost <my> job."},
            "finances": {"income": "6500.00", "essential": "4450.00", "other_debts": "0.00", "savings": "0"},
            "plan": PLAN,
            "offers": [{"round": 1, "proposer": "lender", "status": "countered", "terms": PLAN}],
            "agreement": PLAN,
            "evidence": ["letter.pdf"],
            "messages": 3,
            "schedule": {
                "instalments": [
                    {
                        "number": 1,
                        "due": "2026-12-02",
                        "amount": "795.64",
                        "paid": "795.64",
                        "state": "paid",
                        "moved_from": None,
                    },
                    {
                        "number": 2,
                        "due": "2027-01-02",
                        "amount": "795.64",
                        "paid": "4.36",
                        "state": "late",
                        "moved_from": None,
                    },
                    {
                        "number": 3,
                        "due": "2028-06-02",
                        "amount": "795.64",
                        "paid": "0",
                        "state": "moved",
                        "moved_from": "2027-02-02",
                    },
                ],
                "total": "2386.92",
                "paid_total": "800.00",
                "left": "1586.92",
            },
            "payments": [
                {
                    "amount": "800.00",
                    "paid_on": "2026-12-01",
                    "reported_at": "2026-12-01T03:00:00+00:00",
                    "status": "confirmed",
                    "reason": None,
                    "decided_by": "lender",
                },
                {
                    "amount": "500.00",
                    "paid_on": "2027-01-02",
                    "reported_at": "2027-01-02T03:00:00+00:00",
                    "status": "disputed",
                    "reason": "Nothing <arrived>.",
                    "decided_by": None,
                },
                {
                    "amount": "240.00",
                    "paid_on": "2027-01-03",
                    "reported_at": "2027-01-03T03:00:00+00:00",
                    "status": "confirmed",
                    "reason": "Nothing in account <8812>.",
                    "decided_by": "operator",
                },
            ],
            "log": [
                {
                    "at": "2026-11-02T09:30:00+00:00",
                    "kind": "opened",
                    "to_state": None,
                    "by": "borrower",
                    "sent_by": "borrower",
                    "waiting_until": None,
                    "times": 1,
                },
                {
                    "at": "2026-11-03T09:30:00+00:00",
                    "kind": "offer_made",
                    "to_state": None,
                    "by": "borrower",
                    "sent_by": "operator",
                    "waiting_until": None,
                    "times": 1,
                },
                {
                    "at": "2026-11-03T09:30:00+00:00",
                    "kind": "transition",
                    "to_state": "negotiating",
                    "by": "operator",
                    "sent_by": "operator",
                    "waiting_until": None,
                    "times": 1,
                },
                {
                    "at": "2026-11-03T20:30:00+00:00",
                    "kind": "message_mediator",
                    "to_state": None,
                    "by": "operator",
                    "sent_by": "operator",
                    "waiting_until": "2026-11-04T00:00:00+00:00",
                    "times": 1,
                },
                {
                    "at": "2026-11-04T09:30:00+00:00",
                    "kind": "payment_disputed",
                    "to_state": None,
                    "by": "lender",
                    "sent_by": "lender",
                    "waiting_until": None,
                    "times": 2,
                },
                {
                    "at": "2026-11-05T09:30:00+00:00",
                    "kind": "other",
                    "to_state": None,
                    "by": None,
                    "times": 1,
                },
            ],
        },
        {
            "id": 6,
            "state": "withdrawn",
            "created_at": "2026-10-02T09:30:00+00:00",
            "erased": True,
            "ref": "X1",
            "log": [
                {
                    "at": "2026-10-02T09:30:00+00:00",
                    "kind": "personal_data_erased",
                    "to_state": None,
                    "by": "borrower",
                    "times": 1,
                },
            ],
        },
    ],
    "filed": [{"at": "2026-11-02T09:30:00+00:00", "status": "passed_on"}],
    "failures": 1,
    "lockout_hours": 1,
    "code": "DMKVP59ARU",
    "hours": 72,
    "by_state": {"submitted": 2, "active": 1},
    "first_answer": 5.5,
    "to_agreement": 30.25,
    "rate": 0.5,
    "dead_letters": 2,
    "waiting_messages": 3,
    "monthly": "1200.00",
    "total": "14400.00",
    "report": 3,
    "schedule": [{"number": 1, "due": "2026-12-02", "amount": "1200.00"}],
    "drafted_at": "2026-11-02T09:30:00+00:00",
    "tolerance": 1,
    "grace_days": 15,
    "void_if_missed": True,
    "settlement": False,
    "reports": [
        {
            "id": 1,
            "at": "2026-11-02T09:30:00+00:00",
            "how": "threats",
            "who": "a collector",
            "when": "Monday",
            "details": "He said <things>.",
            "message": None,
            "evidence": True,
        },
        {
            "id": 2,
            "at": "2026-11-02T09:30:00+00:00",
            "how": "relayed_message",
            "who": None,
            "when": None,
            "details": None,
            "message": 4,
            "evidence": False,
        },
    ],
    "queued": [{"id": 7, "since": "2026-11-02T09:30:00+00:00"}],
    "said": [
        {"id": 4, "kind": "relay", "sender": "lender", "at": "2026-11-02T09:30:00+00:00", "text": "Hello"}
    ],
    # The mediator's desk (issue 11): lists, requests to talk to a person, report outcomes, staff
    "entries": [
        ENTRY,
        {**ENTRY, "lender": None, "owed": None, "grade": None, "deadline_at": None},
        {**ENTRY, "state": "active", "owed": None, "deadline_at": None, "plan": PLAN_LEFT},
        {**ENTRY, "state": "completed", "owed": None, "deadline_at": None, "plan": PLAN_DONE},
    ],
    "earlier": [
        {"id": 3, "state": "active", "at": "2026-10-02T09:30:00+00:00", "ended": False},
        {"id": 2, "state": "withdrawn", "at": "2026-09-02T09:30:00+00:00", "ended": True},
    ],
    "requests": [
        {"id": 5, "reason": "stuck", "at": "2026-11-02T09:30:00+00:00", "message": "I cannot find my ref"},
        {"id": 6, "reason": "asked", "at": "2026-11-02T09:30:00+00:00", "message": ""},
    ],
    "request": 5,
    "asked": {
        "id": 5,
        "reason": "stuck",
        "status": "open",
        "at": "2026-11-02T09:30:00+00:00",
        "message": "I cannot <find> my ref",
    },
    "reasons": ["round_limit", "harassment"],
    "timeline": [
        {
            "at": "2026-11-02T09:30:00+00:00",
            "kind": "transition",
            "to_state": "escalated",
            "role": "lender",
            "nth": 2,
        },
        {
            "at": "2026-11-02T09:30:00+00:00",
            "kind": "help_handled",
            "to_state": None,
            "role": None,
            "nth": None,
        },
    ],
    "actors": [
        {"role": "borrower", "nth": None, "count": 9, "last": "2026-11-02T09:30:00+00:00"},
        {"role": "system", "nth": None, "count": 1, "last": "2026-11-02T09:30:00+00:00"},
    ],
    "budget": {"affordable": "1025.00", "fits": False, "gap": "175.00"},
    "days": 1,
    "staff": 2,
    "account": 12,
    "members": [{"id": 12, "channel": "telegram", "user": "123456"}],
    "outcome": "passed_on",
    "contact": "compliance@demo-lender.example",
    "held": [
        {"id": 12, "template": "negotiate/relayed", "at": "2026-11-03T00:00:00+00:00", "words": "Pay now"}
    ],
    "last_offer": "mine",
    # loanbridge verify (issue 15): the checks of a signed agreement document
    "document_file": "agreement-7-v2.txt",
    "findings": [
        {"name": "block", "ok": True, "side": None, "case": 7, "version": 2},
        {"name": "key", "ok": False, "side": None, "stated": "1a2b 3c4d", "given": "5e6f 7a8b"},
        {"name": "signature", "ok": False, "side": None},
        {"name": "text", "ok": True, "side": None, "bytes": 1834, "hash": "e2ad9d99"},
        {"name": "head", "ok": True, "side": None, "size": 200, "at": "2026-12-01 10:05 UTC", "root": "lXW"},
        {"name": "entry", "ok": True, "side": "borrower", "index": 130, "at": "2026-12-01 10:00:00 UTC"},
        {"name": "included", "ok": False, "side": "lender", "index": 131, "at": "2026-12-01 10:05:00 UTC"},
    ],
    "passed": False,
    # A running plan (flows.payments, dialogs.supervision)
    "instalments": [
        {
            "number": 1,
            "due": "2026-12-02",
            "amount": "1200.00",
            "paid": "1200.00",
            "state": "paid",
            "moved_from": "",
        },
        {
            "number": 2,
            "due": "2027-01-02",
            "amount": "1200.00",
            "paid": "300.00",
            "state": "late",
            "moved_from": "",
        },
        {
            "number": 3,
            "due": "2027-02-02",
            "amount": "1200.00",
            "paid": "0",
            "state": "moved",
            "moved_from": "2026-12-02",
        },
    ],
    "paid_total": "1500.00",
    "left": "2100.00",
    "payment": {
        "id": 4,
        "amount": "1200.00",
        "paid_on": "2026-12-01",
        "status": "disputed",
        "receipt": True,
        "reason": "Not in our <account>",
    },
    "awaiting": [
        {
            "id": 4,
            "amount": "1200.00",
            "paid_on": "2026-12-01",
            "status": "reported",
            "receipt": False,
            "reason": None,
        },
        {
            "id": 5,
            "amount": "300.00",
            "paid_on": "2026-12-02",
            "status": "disputed",
            "receipt": True,
            "reason": "No <trace>",
        },
    ],
    "next": {"number": 2, "due": "2027-01-02", "amount": "900.00"},
    "today": "2026-12-02",
    "plan_since": "2026-11-02",
    "first": "2026-11-02",  # the first day a payment under the plan can have been made
    "example_day": "2026-12-02",
    "example_m": 12,
    "example_d": 2,
    "only_today": False,
    "yesterday_possible": True,
    "receipt_name": "receipt.jpg",
    "paid_on": "2026-12-01",
    "by": "lender",
    "from_day": "2026-12-02",
    "to_day": "2027-12-02",
    "due_day": "2026-12-02",
    "voided": True,
    "agreed_on": "2026-11-02",
    "paid": [{"id": 4, "amount": "1200.00", "paid_on": "2026-12-01", "status": "confirmed"}],
    "completed_on": "2027-11-02",
    "credit": "0.50",
    "due": "2026-12-02",
    "final_notice": False,
    "payment_waiting": True,
    "typed": "maybe",
    "other_day": "2026-02-12",  # payments/day_read_as: the reading not taken
    "meant": [{"mark": "2", "label": "Report a payment"}, {"mark": "b", "label": "Report a problem"}],
    "lettered": [{"mark": "b", "label": "Confirm this agreement"}],
    "mark_by": "either",
    "day": "2026-11-02",
    "reported_cases": [7, 9],
    "confirmed_cases": [7],
    "missed_cases": [12],
    "defaulted_cases": [3],
    "waiting_cases": [7, 9],
    "waiting_total": "1500.00",  # payments reported and not yet decided (flows.payments)
    "room": "600.00",
    "can_move": True,  # the schedule offers a move (flows.payments)
    "moves_left": 1,
    "moving": "30.00",  # a partly paid instalment: only what is owed moves, what was paid stays
    "kept_paid": "500.00",
    "rest_number": 19,
    "dispute_text": "No transfer reached our <account>",  # a dispute reason to check (flows.payments)
    "uphold": True,
    "mine": True,  # the one who decided a payment reads "You confirmed …" (flows.payments)
    "day_unknown": True,  # the borrower does not remember the day of a payment (flows.payments)
    # A counter-offer's figures (flows.negotiate): what can vary for the kind, a total that looks monthly
    "total_free": False,
    "one_total": "14321.55",
    "waived": "243.66",
    "months_follow": True,
    "least": "14321.55",
    "person": "below",  # /help: where "Talk to a person" is (dispatch.help)
}
LABEL_ARGUMENTS = {
    "day": "2026-12-01",  # keep_day (flows.payments)
    "lender": "Demo Lender",
    "ref": "DEMO-0001",
    "owed": "100.00",
    "kind": "payment_holiday",
    "monthly": "1.00",
    "t": PLAN,
    "count": 3,
    "case_id": 7,
    "state": "negotiating",
    "amount": "6500.00",
    "rule": "licensed",
    "protected": "0.24",
    "lpr": "0.0345",
    "o": PLAN,
    "i": INTEREST,
    "value": "1200.00",  # change_months, change_monthly, change_total (flows.negotiate)
}


def _names(locale: str) -> set[str]:
    root = TEMPLATE_DIR / locale
    return {str(path.relative_to(root).with_suffix("")) for path in root.rglob("*.j2")} - {"labels"}


def _macros(renderer: Renderer, locale: str) -> set[str]:
    module = renderer.env.get_template(f"{locale}/{LABELS}").make_module({"_locale": locale})
    return {name for name in dir(module) if not name.startswith("_")}


def _recipient(locale: str) -> Account:
    return Account(1, Channel.TERMINAL, "alice", Role.BORROWER, locale, "Asia/Shanghai", reachable=True)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_locale_has_every_template_and_label(locale: str) -> None:
    renderer = Renderer()
    assert _names(locale) == _names("en")
    assert _macros(renderer, locale) == _macros(renderer, "en")


def _variables(renderer: Renderer, path: str) -> set[str]:
    """What a template reads, with what the templates it includes read (they share its context)."""
    ast = renderer.env.parse((TEMPLATE_DIR / path).read_text(encoding="utf-8"))
    found = meta.find_undeclared_variables(ast) - {"label"}
    for included in meta.find_referenced_templates(ast):
        found |= _variables(renderer, str(included))
    return found


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(_names("en")))
def test_every_template_renders_with_sample_data(locale: str, name: str) -> None:
    renderer = Renderer()
    variables = _variables(renderer, f"{locale}/{name}.j2")
    assert variables <= SAMPLES.keys(), f"no sample for {variables - SAMPLES.keys()}"
    rendered = renderer.render(Outbound(1, name, {v: SAMPLES[v] for v in variables}), _recipient(locale))
    assert rendered.text.strip()
    assert "{{" not in rendered.text and "{%" not in rendered.text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_label_renders(locale: str) -> None:
    renderer = Renderer()
    module = renderer.env.get_template(f"{locale}/{LABELS}").make_module({"_locale": locale})
    for name in _macros(renderer, locale):
        macro = getattr(module, name)
        arguments = {a: LABEL_ARGUMENTS.get(a, "submitted") for a in macro.arguments}
        assert str(macro(**arguments)).strip(), name


def test_every_state_has_a_label() -> None:
    macros = _macros(Renderer(), "en")
    assert {f"state_{state.value}" for state in CaseState} <= macros


def test_money_and_dates_are_formatted_for_the_reader() -> None:
    renderer = Renderer()
    template = renderer.env.from_string("{{ amount|money }} {{ day|day }}")
    for locale, expected in (("zh_CN", "¥1,234.50 2026年12月1日"), ("en", "¥1,234.50 December 1, 2026")):
        assert template.render(amount="1234.5", day="2026-12-01", _locale=locale) == expected


def test_text_is_escaped_for_html_channels() -> None:
    renderer = Renderer()
    rendered = renderer.render(
        Outbound(1, "errors/unknown_command", {"command": "<b>x</b>"}), _recipient("en")
    )
    assert "&lt;b&gt;" in rendered.text


def test_the_code_names_only_templates_and_labels_that_exist() -> None:
    code = "\n".join(path.read_text(encoding="utf-8") for path in Path("dialogs").rglob("*.py"))
    templates = set(re.findall(r'"((?:[a-z_]+)/[a-z_]+)"', code)) - {"flow:step"}
    assert templates, "the pattern found nothing: it is broken"
    assert templates <= _names("en"), templates - _names("en")
    labels = set(re.findall(r'Choice\([^()]*?,\s*"([a-z_]+)"', code))
    assert labels <= _macros(Renderer(), "en"), labels - _macros(Renderer(), "en")
