"""The chaser sends only from marts built, completely, as of the day it chases (issue 20)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shinrai.chase.chaser import RemindersNotBuilt, ready_to_send
from shinrai.transform.builds import FAILED, RUNNING, SUCCESS, Build

DAY = date(2026, 4, 10)
AT = datetime(2026, 4, 10, 6, tzinfo=UTC)


def _build(status: str, as_of: date = DAY) -> Build:
    return Build("b1", "scheduled__1", as_of, False, AT, AT if status != RUNNING else None, status,
                 "DbtFailed: x" if status == FAILED else None)


def test_a_complete_build_as_of_the_day_may_send():
    ready_to_send(_build(SUCCESS), DAY)
    ready_to_send(None, DAY)  # no bookkeeping (a warehouse built by hand): taken as it is


@pytest.mark.parametrize(("build", "says"), [
    (_build(SUCCESS, date(2026, 4, 9)), "as of 2026-04-09"),
    (_build(RUNNING), "did not finish (running)"),
    (_build(FAILED), "did not finish (failed)"),
])
def test_other_builds_refuse_naming_why(build, says):
    with pytest.raises(RemindersNotBuilt, match=r"no reminders sent") as refused:
        ready_to_send(build, DAY)
    assert says in str(refused.value)
