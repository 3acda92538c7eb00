"""The ``servicekit`` command: a demo on an SQLite file, and checks of a database.

- ``servicekit demo [--db PATH]`` walks one customer through the whole buying
  cycle on the desk, stored in an SQLite file, and prints the history and the
  briefing the service agent read.
- ``servicekit check PATH`` opens a database (refusing one that is not a
  servicekit file, is damaged or is too new), folds every case, and reports.
- ``servicekit history PATH CASE_ID`` prints one case's history.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from servicekit.buying_cycle import buying_cycle
from servicekit.case import replay
from servicekit.clock import SystemClock
from servicekit.desk import ServiceDesk
from servicekit.errors import ServiceKitError
from servicekit.feedback import Survey
from servicekit.followups import FollowUpOutcome
from servicekit.interactions import Channel, Direction
from servicekit.ownership import Agent, Customer, Role
from servicekit.stores.sqlite import SQLiteStore

__all__ = ["main"]

DEFAULT_DEMO_DB = "servicekit-demo.sqlite"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 on success, 1 on a refused file)."""
    parser = argparse.ArgumentParser(prog="servicekit", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    demo = verbs.add_parser("demo", help="walk one customer through the buying cycle")
    demo.add_argument(
        "--db", default=DEFAULT_DEMO_DB, help=f"SQLite file (default {DEFAULT_DEMO_DB})"
    )
    check = verbs.add_parser("check", help="open a database and fold every case")
    check.add_argument("path")
    history = verbs.add_parser("history", help="print one case's history")
    history.add_argument("path")
    history.add_argument("case_id")
    arguments = parser.parse_args(argv)
    try:
        if arguments.verb == "demo":
            run_demo(Path(arguments.db))
        elif arguments.verb == "check":
            run_check(Path(arguments.path))
        else:
            run_history(Path(arguments.path), arguments.case_id)
    except ServiceKitError as error:
        print(f"servicekit: {error}", file=sys.stderr)
        return 1
    return 0


def run_demo(path: Path) -> None:
    """One customer's whole journey through the desk, stored in `path`."""
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=SystemClock())
        desk.register_agent(Agent("ana", teams={"sales"}))
        desk.register_agent(Agent("bo", teams={"service"}))
        desk.register_agent(Agent("sue", teams={"service"}, roles={Role.AGENT, Role.SUPERVISOR}))
        customer = Customer("cust-42")
        case_id = f"demo-{uuid.uuid4().hex[:8]}"
        desk.open_case(
            actor=customer,
            customer_id=customer.id,
            channel=Channel.WEB,
            summary="Wants 20 standing desks for the new office",
            case_id=case_id,
        )
        desk.take(case_id, actor="ana")
        desk.negotiate(case_id, actor="ana")
        desk.make_offer(case_id, actor="ana", amount=Decimal("9800.00"), currency="EUR")
        desk.reject_offer(case_id, 1, actor=customer, reason="a competitor asks 9,200")
        desk.make_offer(case_id, actor="ana", amount=Decimal("9300.00"), currency="EUR")
        desk.accept_offer(case_id, 2, actor=customer)
        desk.win(case_id, actor="ana")
        desk.start_service(case_id, actor="ana")
        desk.transfer(
            case_id, actor="ana", to="bo", handoff_note="9,300 EUR agreed; deliver in May"
        )
        briefing = desk.briefing(case_id)
        desk.record_interaction(
            case_id,
            actor=customer,
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            summary="Two desks wobble",
        )
        desk.resolve(case_id, actor="bo", reason="tightened the frames on site")
        desk.start_follow_up(case_id, actor="bo")
        for follow_up in desk.case(case_id).open_follow_ups:
            desk.complete_follow_up(
                case_id, follow_up.follow_up_id, actor="ana", outcome=FollowUpOutcome.SERVED
            )
        desk.record_feedback(
            case_id, actor=customer, survey=Survey.CSAT, score=5, comment="quick and friendly"
        )
        desk.close(case_id, actor="bo")
        print(f"The briefing bo read when the case reached him:\n\n{briefing}\n")
        print(f"The history of case {case_id}:\n")
        print(*desk.history(case_id), sep="\n")
    print(f"\nStored in {path}. Look again with: servicekit history {path} {case_id}")


def run_check(path: Path) -> None:
    """Fold every case of the database at `path` and report what it holds."""
    with SQLiteStore(path) as store:
        workflow = buying_cycle()
        summaries = store.find_cases()
        stages: Counter[str] = Counter()
        events = 0
        for summary in summaries:
            history = store.load(summary.case_id).events
            case = replay(workflow, history)
            stages[str(case.stage)] += 1
            events += len(history)
        print(f"{path}: {len(summaries)} cases, {events} events, {len(store.agents())} agents")
        for stage, count in sorted(stages.items()):
            print(f"  {stage}: {count}")


def run_history(path: Path, case_id: str) -> None:
    """Print the history of one case."""
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=buying_cycle(), store=store)
        print(*desk.history(case_id), sep="\n")


if __name__ == "__main__":  # pragma: no cover - the console script calls main()
    sys.exit(main())
