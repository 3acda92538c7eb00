"""`benchmarks/floor_desk.py`: the stand-ins of its entry-free floor (hostile6's review)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from servicekit import CaseSummary, InMemoryStore, buying_cycle

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_desk
import floor_desk


def test_the_stand_ins_are_undone_when_the_measured_code_raises() -> None:
    real_of, real_continues = CaseSummary.__dict__["of"], InMemoryStore.__dict__["_continues"]
    cases: dict[str, object] = {}
    with pytest.raises(KeyError, match=r"^'no such case'$"), floor_desk.entry_free():
        cases["no such case"]  # the measured code fails
    assert CaseSummary.__dict__["of"] is real_of
    assert InMemoryStore.__dict__["_continues"] is real_continues


def test_the_floor_still_pays_for_the_stores_index_update() -> None:
    """What the floor leaves is "the store's lock, history and index update" (its docstring).

    So a move under the stand-ins still moves the case in the store's index by stage:
    two cases in service, each moved to waiting on the customer, are found there.
    """
    with floor_desk.entry_free():
        spread = bench_desk.Spread(buying_cycle(), 2, 20)
        bench_desk.on_desk(spread, 2, named=False)  # wait_on_customer, round-robin
        store = spread.desk.store
        waiting = [s.case_id for s in store.find_cases(stage="waiting_on_customer")]
        in_service = [s.case_id for s in store.find_cases(stage="in_service")]
    assert (waiting, in_service) == (["case-0", "case-1"], [])
