"""`loanbridge lender invite --hours`: a bad value is refused in one clear line."""

from __future__ import annotations

import pytest

from bot.cli import invite_hours, parser


@pytest.mark.parametrize("bad", ["0", "721", "-3", "two"])
def test_hours_out_of_range_are_refused_in_one_line(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["lender", "invite", "Demo Lender", "--hours", bad])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.endswith(f"must be whole hours from 1 to 720, got '{bad}'")
    assert len(error) < 200  # not the 720 allowed values


def test_hours_in_range_are_taken() -> None:
    assert invite_hours("1") == 1 and invite_hours("720") == 720
