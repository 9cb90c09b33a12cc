"""Every error the core raises, under one root.

    DomainError                 something the user or operator asked for cannot be done, and why
    ├── InvalidInput            a value is malformed or out of range (a rule's argument, a CSV cell)
    │   ├── InvalidIdNumber     a resident ID number fails its format, date or check digit
    │   └── InvalidPhone        a phone number that cannot be normalised
    ├── IllegalTransition       the case lifecycle does not allow this move from the current state
    ├── NotFound                the case, loan, lender or account does not exist
    ├── AlreadyExists           a lender (or other uniquely named thing) of that name is already there
    ├── PermissionDenied        the actor's role may not do this
    └── LoanBookRejected        a loan-book file was refused as a whole; ``problems`` lists every line

Each carries a message written for the person who will read it; the edges translate them into templates.
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Root of every error the core raises on purpose."""


class InvalidInput(DomainError, ValueError):
    """A value is malformed or out of range."""


class InvalidIdNumber(InvalidInput):
    """A resident ID number fails its format, birth date or check digit."""


class InvalidPhone(InvalidInput):
    """A phone number that cannot be normalised to E.164."""


class IllegalTransition(DomainError):
    """The case lifecycle forbids this move; nothing was changed."""

    def __init__(self, case_id: int, current: str, target: str) -> None:
        super().__init__(f"case {case_id} cannot go from {current!r} to {target!r}")
        self.case_id = case_id
        self.current = current
        self.target = target


class NotFound(DomainError, LookupError):
    """The thing asked for does not exist."""


class AlreadyExists(DomainError):
    """Something of that name or key is already there."""


class PermissionDenied(DomainError):
    """The actor's role may not do this."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, at a 1-based line number (the header is line 1)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class LoanBookRejected(DomainError):
    """A loan-book import was refused whole; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listing = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"the loan book was not imported ({len(problems)} problem(s)):\n{listing}")
