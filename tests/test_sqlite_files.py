"""The SQLite store guards its file: it refuses what it cannot read, and never changes it."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from helpers import ANA, BO, CY, SAL, START, SUE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicekit import (
    Agent,
    Channel,
    CorruptHistory,
    Event,
    FollowUpCompleted,
    FollowUpHandedOver,
    FollowUpOutcome,
    FollowUpScheduled,
    IncompatibleStore,
    ManualClock,
    ServiceDesk,
    StewardReassigned,
    StoreError,
    buying_cycle,
)
from servicekit.calendar import BusinessCalendar
from servicekit.serialization import agent_to_dict, event_to_dict
from servicekit.sla import Metric, Policy, PolicySet, Target
from servicekit.stores import InMemoryStore, SQLiteStore
from servicekit.stores.base import open_follow_up_assignees
from servicekit.stores.sqlite import _MIGRATIONS, _SCHEMA_V1, APPLICATION_ID, SCHEMA_VERSION

WORKFLOW = buying_cycle()


def filled(path: Path) -> Path:
    """A servicekit file with one case in it."""
    with SQLiteStore(path, synchronous="NORMAL") as store:
        desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
        desk.register_agent(ANA)
        desk.open_case(
            actor="ana", customer_id="c", channel=Channel.PHONE, summary="s", case_id="case-1"
        )
        desk.start_service("case-1", actor="ana")
    return path


def sql(path: Path, *statements: str, parameters: tuple[object, ...] = ()) -> None:
    """Run statements on the file directly, as another program would, and close it."""
    db = sqlite3.connect(path)
    try:
        for statement in statements:
            db.execute(statement, parameters if "?" in statement else ())
        db.commit()
    finally:
        db.close()


def refused(path: Path, error: type[Exception], match: str) -> None:
    before = path.read_bytes()
    with pytest.raises(error, match=match):
        SQLiteStore(path)
    assert path.read_bytes() == before  # never modified
    assert not Path(f"{path}-wal").exists()


def test_a_new_file_is_created_with_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    SQLiteStore(path).close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert db.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_store_reopens_with_everything_in_it(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.sqlite")
    with SQLiteStore(path) as store:
        assert store.load("case-1").version == 5
        assert [s.stage for s in store.find_cases()] == ["in_service"]
        assert store.get_agent("ana") == ANA
        assert repr(store) == f"SQLiteStore({str(path)!r})"


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("dear diary, " * 20)
    refused(path, StoreError, "not a servicekit database")


def test_a_truncated_file_is_refused_untouched(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.sqlite")
    path.write_bytes(path.read_bytes()[:60])
    refused(path, StoreError, "not a servicekit database")


def test_another_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    sql(path, "CREATE TABLE songs (title TEXT)")
    refused(
        path,
        StoreError,
        f"^{re.escape(repr(str(path)))} is an SQLite database of another application "
        r"\(application id 0x0\), not a servicekit database$",
    )


def test_a_file_from_a_newer_servicekit_is_refused_untouched(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.sqlite")
    sql(path, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    refused(
        path,
        IncompatibleStore,
        f"^{re.escape(repr(str(path)))} was written by a newer servicekit "
        rf"\(schema {SCHEMA_VERSION + 1}\); this version reads schemas up to "
        f"{SCHEMA_VERSION}: upgrade servicekit$",
    )


def test_a_damaged_file_is_refused_untouched(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.sqlite")
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page + 8, len(data), 7):  # scribble over every page but the header
        data[offset] = (data[offset] + 101) % 256
    path.write_bytes(bytes(data))
    refused(path, StoreError, "damaged|cannot be used|malformed")


def test_a_damaged_file_is_refused_naming_the_file_and_each_problem(tmp_path: Path) -> None:
    # SQLite's quick check finds two rows breaking a NOT NULL the schema was changed to
    # claim; the refusal names the file and both problems, as the check reports them.
    path = filled(tmp_path / "s.sqlite")
    sql(path, "CREATE TABLE extra (x)", "INSERT INTO extra VALUES (NULL), (NULL)")
    sql(
        path,
        "PRAGMA writable_schema = ON",
        "UPDATE sqlite_master SET sql = 'CREATE TABLE extra (x NOT NULL)' WHERE name = 'extra'",
    )
    problem = "NULL value in extra.x"
    refused(path, StoreError, f"^{re.escape(repr(str(path)))} is damaged: {problem}; {problem}$")


def test_an_older_file_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    db = sqlite3.connect(path)
    db.executescript(_SCHEMA_V1)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    agent = '{"id":"ana","teams":["sales"],"roles":["agent"],"active":true}'
    db.execute("INSERT INTO agents VALUES ('ana', ?)", (agent,))
    db.commit()
    db.close()
    with SQLiteStore(path) as store:
        assert store.get_agent("ana") == Agent("ana", teams={"sales"})
        store.save_checkpoint("mailer", 7)  # the table version 2 added
        assert store.checkpoint("mailer") == 7
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def schema_3_file(
    path: Path, *, agents: tuple[Agent, ...] = (ANA,), spacing: int = 1
) -> InMemoryStore:
    """A file laid out as servicekit wrote it at schema 3, and the same data in memory.

    The events are at positions 1, 1 + `spacing`, 1 + 2 * `spacing`, ...
    """
    memory = InMemoryStore()
    desk = ServiceDesk(workflow=WORKFLOW, store=memory, clock=ManualClock(START))
    for agent in agents:
        desk.register_agent(agent)
    for case_id in ("case-1", "case-2"):
        desk.open_case(
            actor="ana", customer_id="c", channel=Channel.PHONE, summary="s", case_id=case_id
        )
    desk.start_service("case-1", actor="ana")
    db = sqlite3.connect(path)
    for step in range(3):
        db.executescript(_MIGRATIONS[step][0])
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 3")
    for stored in memory.read_all():
        data = json.dumps(event_to_dict(stored.event))
        db.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?)",
            (spaced(stored.position, spacing), stored.event.case_id, stored.event.version, data),
        )
    for s in memory.find_cases():
        row: tuple[object, ...] = (s.case_id, s.customer_id, s.stage, s.category.value)
        row += (int(s.finished), s.owner_id, s.steward_id, s.version)
        row += (micros(s.opened_at), micros(s.updated_at), None)
        db.execute("INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    for agent in agents:
        db.execute("INSERT INTO agents VALUES (?, ?)", (agent.id, json.dumps(agent_to_dict(agent))))
    db.commit()
    db.close()
    return memory


def spaced(position: int, spacing: int) -> int:
    return 1 + (position - 1) * spacing


def test_an_older_files_events_keep_their_positions_and_new_ones_follow_the_last(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v3.sqlite"
    memory = schema_3_file(path, spacing=10)
    with SQLiteStore(path) as store:
        found = store.read_all()
        assert found == [
            attrs.evolve(stored, position=spaced(stored.position, 10))
            for stored in memory.read_all()
        ]
        desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
        desk.start_service("case-2", actor="ana")
        assert [stored.position for stored in store.read_all(after=found[-1].position)] == [
            found[-1].position + 1
        ]


def micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def test_a_schema_3_file_is_migrated_with_each_cases_workflow_from_its_opening(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v3.sqlite"
    memory = schema_3_file(path)
    with SQLiteStore(path) as store:
        assert store.find_cases() == memory.find_cases()
        assert [s.workflow for s in store.find_cases()] == [WORKFLOW.name, WORKFLOW.name]
        assert store.agents_in_team("sales") == [ANA]
        assert [s.case_id for s in store.find_cases(workflow=WORKFLOW.name)] == [
            "case-1",
            "case-2",
        ]
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_an_older_file_is_migrated_with_each_cases_channel_from_its_opening(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v3.sqlite"
    schema_3_file(path)
    with SQLiteStore(path) as store:
        assert [s.channel for s in store.find_cases()] == ["phone", "phone"]


def test_a_migration_finds_the_open_follow_ups_of_a_history_without_its_workflow() -> None:
    # Rule (the index of follow-up assignees a migration fills): a follow-up is open from
    # its scheduling to its completion, with the agent it was last handed to; a new
    # steward takes over the leaving steward's open follow-ups.
    on: dict[str, Any] = {"case_id": "k", "at": START, "actor": ANA}
    due: dict[str, Any] = {"due": START, "reason": "r"}
    history: list[Event] = [
        FollowUpScheduled(version=1, follow_up_id=1, assignee=ANA, **due, **on),
        FollowUpScheduled(version=2, follow_up_id=2, assignee=BO, **due, **on),
        FollowUpScheduled(version=3, follow_up_id=3, assignee=CY, **due, **on),
        FollowUpHandedOver(
            version=4, follow_up_id=2, from_assignee=BO, to_assignee=SUE, reason="r", **on
        ),
        FollowUpCompleted(version=5, follow_up_id=3, outcome=FollowUpOutcome.SERVED, note="", **on),
        StewardReassigned(version=6, from_steward=ANA, to_steward=SAL, reason="r", **on),
    ]
    assert open_follow_up_assignees(history[:3]) == frozenset({"ana", "bo", "cy"})
    assert open_follow_up_assignees(history[:5]) == frozenset({"ana", "sue"})
    assert open_follow_up_assignees(history) == frozenset({"sal", "sue"})


def test_a_schema_3_case_without_its_opening_is_refused_and_not_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite"
    schema_3_file(path)
    sql(path, "DELETE FROM events WHERE case_id = 'case-2' AND version = 1")
    with pytest.raises(CorruptHistory, match="case 'case-2' does not start with a CaseOpened"):
        SQLiteStore(path)
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (3,)


def test_a_malformed_stored_event_is_named_with_its_position(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.sqlite")
    sql(path, "UPDATE events SET data = '{not json' WHERE position = 3")
    with SQLiteStore(path) as store:
        with pytest.raises(CorruptHistory, match="position 3 is not valid JSON"):
            store.load("case-1")
        with pytest.raises(CorruptHistory, match="position 3"):
            store.read_all()


def test_a_stored_event_of_an_unknown_type_is_named(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.sqlite")
    sql(path, "UPDATE events SET data = replace(data, 'OwnerAssigned', 'OwnerVanished')")
    with SQLiteStore(path) as store, pytest.raises(CorruptHistory, match="OwnerVanished"):
        store.load("case-1")


def test_a_gap_in_a_stored_history_is_named(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.sqlite")
    sql(path, "DELETE FROM events WHERE version = 2")
    gap = (
        "^case 'case-1' has a gap or a mismatch in its history at position 3: "
        "expected version 2, found 3$"
    )
    with SQLiteStore(path) as store, pytest.raises(CorruptHistory, match=gap):
        store.load("case-1")


def damaged(path: Path, position: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Rewrite the stored event at `position` after `change` edits its JSON in place."""
    with closing(sqlite3.connect(path)) as db:
        (data,) = db.execute("SELECT data FROM events WHERE position = ?", (position,)).fetchone()
    stored = json.loads(data)
    change(stored)
    sql(
        path,
        "UPDATE events SET data = ? WHERE position = ?",
        parameters=(json.dumps(stored), position),
    )


def setter(*keys: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(stored: dict[str, Any]) -> None:
        for key in keys[:-1]:
            stored = stored[key]
        stored[keys[-1]] = value

    return change


def dropper(*keys: str) -> Callable[[dict[str, Any]], None]:
    def change(stored: dict[str, Any]) -> None:
        for key in keys[:-1]:
            stored = stored[key]
        del stored[keys[-1]]

    return change


DAMAGE = {  # a stored event damaged in a way that keeps it valid JSON: what the error names
    "its version disagrees with its row": (
        5,
        setter("version", value=4),
        (
            "^case 'case-1' has a gap or a mismatch in its history at position 5: "
            "expected version 5, found 4$"
        ),
    ),
    "its case disagrees with its row": (5, setter("case_id", value="case-9"), "position 5"),
    "a text field holds a number": (5, setter("payload", "dest", value=5), "position 5: .*str"),
    "a payload field is missing": (5, dropper("payload", "trigger"), "position 5: .*missing"),
    "a field is added": (2, setter("payload", "mood", value="x"), "position 2: .*unknown"),
    "a key is added beside the payload": (5, setter("mood", value="x"), "position 5: .*unknown"),
    "its time is not a time": (5, setter("at", value="soon"), "position 5: .*ISO 8601"),
    "its time has no offset": (5, setter("at", value="2026-03-02T09:00:00"), "offset"),
    "its channel is unknown": (2, setter("payload", "channel", value=""), "position 2"),
    "its actor is malformed": (5, setter("actor", value={"kind": "robot"}), "position 5: .*kind"),
    "its schema is from the future": (5, setter("schema_version", value=9), "newer than"),
    "its version is text": (5, setter("version", value="5"), "position 5"),
    "its version is true": (1, setter("version", value=True), "position 1: .*got True"),
    # 1 == True in Python: equal to the row before's actor, but not what a store writes.
    "its actor's active is a number": (5, setter("actor", "active", value=1), "position 5: .*bool"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_stored_event_is_refused_naming_its_position(tmp_path: Path, damage: str) -> None:
    position, change, match = DAMAGE[damage]
    path = filled(tmp_path / "s.sqlite")
    damaged(path, position, change)
    with SQLiteStore(path) as store, pytest.raises(CorruptHistory, match=match):
        store.load("case-1")


def test_a_stored_event_whose_payload_keys_come_in_another_order_loads_the_same(
    tmp_path: Path,
) -> None:
    # Rule: a stored event's payload is read by its keys, in whatever order they come
    # (JSON objects have none; another program may write them so).
    path = filled(tmp_path / "s.sqlite")
    with SQLiteStore(path) as store:
        before = store.load("case-1").events

    def dest_first(stored: dict[str, Any]) -> None:  # two texts: the same JSON types
        payload = stored["payload"]
        stored["payload"] = {"dest": payload.pop("dest"), **payload}

    damaged(path, 5, dest_first)
    with SQLiteStore(path) as store:
        assert store.load("case-1").events == before
        assert before[4].dest == "in_service"  # type: ignore[union-attr]


def test_a_stored_capacity_of_true_is_refused_though_true_equals_1(tmp_path: Path) -> None:
    # Rule: a stored agent's capacity is a whole number, not a boolean, even when the
    # same agent with a capacity of 1 was read just before (True == 1 in Python).
    path = tmp_path / "s.sqlite"
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
        desk.register_agent(Agent("cy", capacity={"chat": 1}))
        desk.open_case(
            actor="cy", customer_id="c", channel=Channel.PHONE, summary="s", case_id="case-1"
        )
        desk.start_service("case-1", actor="cy")
    damaged(path, 5, setter("actor", "capacity", "chat", value=True))
    refusal = "position 5: .*the capacity on 'chat' must be a whole number from 0, got True"
    with SQLiteStore(path) as store, pytest.raises(CorruptHistory, match=refusal):
        store.load("case-1")


def test_a_stored_follow_up_id_that_is_text_is_refused(tmp_path: Path) -> None:
    # Rule: a whole-number field of a stored event (a follow-up's id) holding text is
    # damage, named with its position.
    path = filled(tmp_path / "s.sqlite")
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
        desk.schedule_follow_up(
            "case-1", actor="ana", due=START + timedelta(days=1), reason="call back"
        )
        position = store.read_all()[-1].position
    damaged(path, position, setter("payload", "follow_up_id", value="1"))
    with SQLiteStore(path) as store, pytest.raises(CorruptHistory, match=f"position {position}"):
        store.load("case-1")


def test_a_stored_policy_version_that_is_text_is_refused(tmp_path: Path) -> None:
    # Rule: a whole-number field is damage when it holds text, also in an event whose
    # fields are all plain JSON (SlaPolicyApplied: a name and a version), which SQLite's
    # quick loading plan reads without converting them.
    policies = PolicySet(
        [
            Policy(
                name="standard",
                version=1,
                calendar=BusinessCalendar.always_open(),
                targets=[Target(Metric.RESOLUTION, "8h")],
            )
        ]
    )
    path = tmp_path / "s.sqlite"
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START), sla=policies)
        desk.register_agent(ANA)
        desk.open_case(
            actor="ana", customer_id="c", channel=Channel.PHONE, summary="s", case_id="case-1"
        )
        (position,) = [
            stored.position
            for stored in store.read_all()
            if type(stored.event).__name__ == "SlaPolicyApplied"
        ]
    damaged(path, position, setter("payload", "policy_version", value="1"))
    with SQLiteStore(path) as store, pytest.raises(CorruptHistory, match=f"position {position}"):
        store.load("case-1")


def accepted_offer(path: Path) -> Path:
    """A servicekit file whose case-1 ends with an offer accepted on the phone (position 7)."""
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
        desk.register_agent(ANA)
        desk.open_case(
            actor="ana", customer_id="c", channel=Channel.PHONE, summary="s", case_id="case-1"
        )
        desk.move("case-1", "negotiate", actor="ana")
        desk.make_offer("case-1", actor="ana", amount=Decimal(10), currency="EUR")
        desk.accept_offer("case-1", 1, actor="ana", via=Channel.PHONE)
    return path


def test_an_offer_accepted_on_a_channel_loads_back_with_it(tmp_path: Path) -> None:
    path = accepted_offer(tmp_path / "s.sqlite")
    with SQLiteStore(path) as store:
        last = store.load("case-1").events[-1]
        assert (type(last).__name__, last.offer_id, last.via) == (  # type: ignore[union-attr]
            "OfferAccepted",
            1,
            Channel.PHONE,
        )


def test_a_stored_offer_id_that_is_text_is_refused(tmp_path: Path) -> None:
    path = accepted_offer(tmp_path / "s.sqlite")
    damaged(path, 7, setter("payload", "offer_id", value="1"))
    with SQLiteStore(path) as store, pytest.raises(CorruptHistory, match="position 7"):
        store.load("case-1")


def test_trailing_bytes_after_a_stored_event_are_refused(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.sqlite")
    sql(path, "UPDATE events SET data = data || ' {}' WHERE position = 4")
    with SQLiteStore(path) as store, pytest.raises(CorruptHistory, match="position 4 is not valid"):
        store.load("case-1")


def test_an_event_stored_at_an_older_schema_loads_upcast(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.sqlite")
    with SQLiteStore(path) as store:
        current = store.load("case-1").events

    def to_version_2(stored: dict[str, Any]) -> None:
        stored["schema_version"] = 2
        del stored["payload"]["priority"], stored["payload"]["tier"]

    damaged(path, 1, to_version_2)
    with SQLiteStore(path) as store:
        assert store.load("case-1").events == current


def test_a_malformed_stored_agent_is_named(tmp_path: Path) -> None:
    path = filled(tmp_path / "s.sqlite")
    sql(path, "UPDATE agents SET data = '[]'")
    with SQLiteStore(path) as store, pytest.raises(StoreError, match="stored agent is malformed"):
        store.agents()


def test_synchronous_must_be_a_sqlite_level(tmp_path: Path) -> None:
    from servicekit import InvalidValue  # noqa: PLC0415

    with pytest.raises(InvalidValue, match="synchronous"):
        SQLiteStore(tmp_path / "s.sqlite", synchronous="SOMETIMES")


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(min_size=1, max_size=3000))
def test_random_bytes_are_refused_untouched(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(junk)
    refused(path, StoreError, "servicekit database|cannot be used|damaged")


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=1, max_value=40_000))
def test_a_database_cut_anywhere_is_refused_or_read_untouched(tmp_path: Path, cut: int) -> None:
    source = tmp_path / "source.sqlite"
    if not source.exists():
        filled(source)
    data = source.read_bytes()
    path = tmp_path / "cut.sqlite"
    path.write_bytes(data[: min(cut, len(data) - 1)])
    before = path.read_bytes()
    try:
        with SQLiteStore(path, check_integrity=True) as store:
            store.load("case-1")
    except (StoreError, CorruptHistory):
        assert path.read_bytes() == before
