"""The web example through FastAPI's test client: pages, actions and errors as HTTP."""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_app import create_app

from servicekit import (
    CaseHistory,
    CaseSummary,
    Channel,
    ConcurrencyConflict,
    Customer,
    Direction,
    Event,
    FollowUpDue,
    InMemoryStore,
    ManualClock,
    ServiceDesk,
    Survey,
    buying_cycle,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, in office hours


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def client(store: InMemoryStore, clock: ManualClock) -> Iterator[TestClient]:
    with TestClient(create_app(store=store, clock=clock, tick_every=None)) as client:
        yield client


def desk_of(client: TestClient) -> ServiceDesk:
    desk = client.app.state.desk  # type: ignore[attr-defined]
    assert isinstance(desk, ServiceDesk)
    return desk


def open_case(client: TestClient, customer_id: str = "ivy", summary: str = "Router drops") -> str:
    response = client.post(
        "/cases",
        data={"customer_id": customer_id, "channel": "web", "summary": summary},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response.headers["location"].split("opened=")[1]


def buttons(page: str) -> list[str]:
    return [html.unescape(label).strip() for label in re.findall(r"<button[^>]*>([^<]*)<", page)]


def section(page: str, pattern: str) -> str:
    found = re.search(pattern, page, re.DOTALL)
    assert found, pattern
    return html.unescape(found.group(1))


def alert(page: str) -> str:
    found = re.search(r'role="alert">([^<]*)<', page)
    assert found, page
    return html.unescape(found.group(1))


def test_a_customer_opens_a_case_from_the_form(client: TestClient) -> None:
    assert "How can we help?" in client.get("/cases/new").text
    case_id = open_case(client, summary="The router drops the Wi-Fi")
    case = desk_of(client).case(case_id)
    assert case.customer_id == "ivy"
    assert case.stage == "enquiry"
    assert [(i.channel, i.summary) for i in case.interactions] == [
        (Channel.WEB, "The router drops the Wi-Fi")
    ]


def test_submitting_the_open_form_twice_opens_one_case(client: TestClient) -> None:
    form = {"customer_id": "ivy", "channel": "web", "summary": "Twice", "idempotency_key": "k-1"}
    first = client.post("/cases", data=form, follow_redirects=False)
    again = client.post("/cases", data=form, follow_redirects=False)
    assert first.headers["location"] == again.headers["location"]
    assert len(desk_of(client).cases_of_customer("ivy")) == 1


def test_the_queue_shows_owned_cases_with_their_sla_status(
    client: TestClient, clock: ManualClock
) -> None:
    case_id = open_case(client)
    client.post(f"/agents/ana/cases/{case_id}/take")
    clock.advance(timedelta(hours=5))  # past the 4 business hours of a first response
    desk_of(client).tick()
    row = re.search(
        rf"<tr>\s*<td><a[^>]*>{case_id}</a>.*?</tr>", client.get("/agents/ana").text, re.DOTALL
    )
    assert row, "ana's queue lists her case"
    assert "first_response: breached" in row.group(0)
    # two business days from Monday 09:00: Wednesday 09:00
    assert "resolution: running, due Wed 2026-03-04 09:00Z" in row.group(0)


def test_the_queue_lists_the_cases_waiting_for_an_owner(client: TestClient) -> None:
    waiting = open_case(client, "ivy")
    taken = open_case(client, "tom")
    client.post(f"/agents/bo/cases/{taken}/take")
    intake = re.search(r'<table id="intake">.*?</table>', client.get("/agents/ana").text, re.DOTALL)
    assert intake
    assert waiting in intake.group(0)
    assert taken not in intake.group(0)


def test_the_case_page_offers_the_actions_the_rules_allow_the_agent(client: TestClient) -> None:
    case_id = open_case(client)
    assert buttons(client.get(f"/agents/ana/cases/{case_id}").text) == ["Take", "Send reply"]
    client.post(f"/agents/ana/cases/{case_id}/take")
    owner = buttons(client.get(f"/agents/ana/cases/{case_id}").text)
    assert owner == ["Negotiate", "Start service", "Send reply", "Transfer"]
    # bo neither owns the case nor supervises ana: he may reply, nothing else
    assert buttons(client.get(f"/agents/bo/cases/{case_id}").text) == ["Send reply"]
    # sue supervises the service team: she may move and transfer ana's case
    assert "Transfer" in buttons(client.get(f"/agents/sue/cases/{case_id}").text)


def test_the_case_page_shows_the_timeline_the_briefing_and_the_sla(client: TestClient) -> None:
    case_id = open_case(client, summary="Router drops")
    client.post(f"/agents/ana/cases/{case_id}/take")
    page = client.get(f"/agents/ana/cases/{case_id}").text
    timeline = section(page, r'<ol class="timeline" id="timeline">(.*?)</ol>')
    described = [event.describe() for event in desk_of(client).history(case_id)]
    assert [line.split(": ", 1)[1] for line in re.findall(r"</small> (.*)</li>", timeline)] == (
        described
    )
    briefing = section(page, r'<pre id="briefing">(.*?)</pre>')
    assert briefing == str(desk_of(client).briefing(case_id))
    assert "first_response: running, due Mon 2026-03-02 13:00Z" in page


def test_an_agents_actions_change_the_case(client: TestClient) -> None:
    case_id = open_case(client)
    for path, form in [
        ("take", {}),
        ("move", {"trigger": "start_service"}),
        ("reply", {"summary": "Please restart the router", "channel": "email"}),
        ("transfer", {"to": "bo", "handoff_note": "Restarted; line test next"}),
    ]:
        agent = "ana"
        response = client.post(f"/agents/{agent}/cases/{case_id}/{path}", data=form)
        assert response.status_code == 200, response.text
    client.post(f"/agents/bo/cases/{case_id}/move", data={"trigger": "wait_on_customer"})
    case = desk_of(client).case(case_id)
    assert (case.stage, case.owner and case.owner.id, case.steward and case.steward.id) == (
        "waiting_on_customer",
        "bo",
        "ana",
    )
    assert case.handoffs[0].note == "Restarted; line test next"
    assert case.interactions[-1].direction is Direction.OUTBOUND


def test_completing_a_follow_up_records_its_outcome(client: TestClient) -> None:
    case_id = open_case(client)
    client.post(f"/agents/ana/cases/{case_id}/take")
    client.post(f"/agents/ana/cases/{case_id}/move", data={"trigger": "start_service"})
    client.post(
        f"/agents/ana/cases/{case_id}/transfer", data={"to": "bo", "handoff_note": "over to bo"}
    )
    follow_up = desk_of(client).case(case_id).open_follow_ups[0]
    page = client.get(f"/agents/ana/cases/{case_id}").text
    assert f"Complete follow-up {follow_up.follow_up_id}" in buttons(page)
    response = client.post(
        f"/agents/ana/cases/{case_id}/follow-ups/{follow_up.follow_up_id}",
        data={"outcome": "served", "note": "bo sorted it"},
    )
    assert response.status_code == 200
    done = desk_of(client).case(case_id).follow_ups[0]
    assert (done.outcome and done.outcome.value, done.note) == ("served", "bo sorted it")


def test_an_unknown_case_is_404_with_the_librarys_message(client: TestClient) -> None:
    for response in [
        client.get("/agents/ana/cases/nope"),
        client.post("/agents/ana/cases/nope/take"),
    ]:
        assert response.status_code == 404
        assert "nope" in alert(response.text)


def test_an_unknown_agent_in_the_address_is_404(client: TestClient) -> None:
    response = client.get("/agents/zed")
    assert response.status_code == 404
    assert alert(response.text).startswith("there is no agent 'zed'")
    assert alert(client.get("/no/such/page").text) == "Not Found"


def test_a_refusal_by_the_rules_is_403_with_the_librarys_message_and_changes_nothing(
    client: TestClient,
) -> None:
    case_id = open_case(client)
    client.post(f"/agents/ana/cases/{case_id}/take")
    before = desk_of(client).history(case_id)
    response = client.post(f"/agents/bo/cases/{case_id}/move", data={"trigger": "start_service"})
    assert response.status_code == 403
    assert alert(response.text).startswith(
        f"agent 'bo' cannot fire 'start_service' on case '{case_id}' in stage 'enquiry'"
    )
    assert desk_of(client).history(case_id) == before


def test_a_transfer_without_a_handoff_note_is_refused(client: TestClient) -> None:
    case_id = open_case(client)
    client.post(f"/agents/ana/cases/{case_id}/take")
    response = client.post(
        f"/agents/ana/cases/{case_id}/transfer", data={"to": "bo", "handoff_note": "   "}
    )
    assert response.status_code == 403
    assert "handoff note" in alert(response.text)
    assert desk_of(client).case(case_id).owner.id == "ana"  # type: ignore[union-attr]


def test_reusing_an_idempotency_key_for_another_command_is_409(client: TestClient) -> None:
    case_id = open_case(client)
    client.post(f"/agents/ana/cases/{case_id}/take", data={"idempotency_key": "k-7"})
    response = client.post(
        f"/agents/ana/cases/{case_id}/move",
        data={"trigger": "start_service", "idempotency_key": "k-7"},
    )
    assert response.status_code == 409
    assert alert(response.text).startswith("idempotency key 'k-7' was already used")
    assert desk_of(client).case(case_id).stage == "enquiry"


class RacingStore(InMemoryStore):
    """A store where another writer appends to the case just before every append of ours."""

    def __init__(self) -> None:
        super().__init__()
        self.rival = ServiceDesk(workflow=buying_cycle(), store=self, clock=ManualClock(START))
        self.racing = False
        self._inside = threading.local()

    def append(self, case_id: str, events: Sequence[Event], **options: Any) -> int:
        if self.racing and not getattr(self._inside, "rival", False):
            self._inside.rival = True
            try:
                self.rival.record_interaction(
                    case_id,
                    actor=Customer("ivy"),
                    channel=Channel.CHAT,
                    direction=Direction.INBOUND,
                    summary="Any news?",
                )
            finally:
                self._inside.rival = False
        return super().append(case_id, events, **options)


def test_losing_every_race_to_another_writer_is_409(clock: ManualClock) -> None:
    store = RacingStore()
    with TestClient(create_app(store=store, clock=clock, tick_every=None)) as client:
        case_id = open_case(client)
        store.racing = True
        response = client.post(f"/agents/ana/cases/{case_id}/take")
        store.racing = False
        assert response.status_code == 409
        assert alert(response.text).startswith(f"case '{case_id}' was expected at version")
        assert desk_of(client).case(case_id).owner is None
    assert issubclass(ConcurrencyConflict, Exception)


def test_bad_input_is_422_with_the_librarys_message(client: TestClient) -> None:
    blank = client.post("/cases", data={"customer_id": " ", "channel": "web", "summary": "x"})
    assert blank.status_code == 422
    assert alert(blank.text) == "id must be a non-blank string, got ' '"
    channel = client.post("/cases", data={"customer_id": "ivy", "channel": "Fax!", "summary": "x"})
    assert channel.status_code == 422
    assert "a channel name is lower-case letters" in alert(channel.text)
    case_id = open_case(client)
    client.post(f"/agents/ana/cases/{case_id}/take")
    unknown = client.post(
        f"/agents/ana/cases/{case_id}/transfer", data={"to": "zed", "handoff_note": "x"}
    )
    assert unknown.status_code == 422
    assert alert(unknown.text).startswith("there is no agent 'zed'")
    outcome = client.post(f"/agents/ana/cases/{case_id}/follow-ups/1", data={"outcome": "maybe"})
    assert outcome.status_code == 422
    assert "not 'maybe'" in alert(outcome.text)
    survey = client.post(
        f"/customers/ivy/cases/{case_id}/feedback", data={"survey": "mood", "score": "3"}
    )
    assert survey.status_code == 422
    assert alert(survey.text) == "a survey is one of csat, nps, ces, not 'mood'"
    score = client.post(f"/customers/ivy/cases/{case_id}/feedback", data={"score": "6"})
    assert score.status_code == 422
    assert alert(score.text) == "a CSAT score is a whole number from 1 to 5, got 6"
    assert desk_of(client).case(case_id).feedback == ()
    assert client.post("/cases", data={"customer_id": "ivy"}).status_code == 422  # fields missing
    assert [s.case_id for s in desk_of(client).cases()] == [case_id]


def test_the_customer_page_shows_the_customers_timeline_across_cases(client: TestClient) -> None:
    first = open_case(client, "ivy", "Router drops")
    second = open_case(client, "ivy", "Invoice charged twice")
    other = open_case(client, "tom", "Parcel late")
    client.post(f"/customers/ivy/cases/{first}/messages", data={"summary": "Logs attached"})
    page = client.get("/customers/ivy").text
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.DOTALL)
    assert timeline
    assert f"[{first}]" in timeline.group(1)
    assert f"[{second}]" in timeline.group(1)
    assert other not in page
    assert "inbound web: Logs attached" in timeline.group(1)


def test_a_customer_acts_only_on_their_own_cases(client: TestClient) -> None:
    case_id = open_case(client, "ivy")
    response = client.post(f"/customers/tom/cases/{case_id}/messages", data={"summary": "hi"})
    assert response.status_code == 404
    response = client.post(f"/customers/tom/cases/{case_id}/feedback", data={"score": "1"})
    assert response.status_code == 404
    assert len(desk_of(client).case(case_id).interactions) == 1


def test_a_customer_gives_feedback_from_their_page(client: TestClient) -> None:
    case_id = open_case(client, "ivy")
    client.post(
        f"/customers/ivy/cases/{case_id}/feedback",
        data={"survey": "nps", "score": "9", "comment": "quick"},
    )
    feedback = desk_of(client).case(case_id).feedback
    assert [(f.survey, f.score, f.comment) for f in feedback] == [(Survey.NPS, 9, "quick")]


def wait_for(condition: object, *, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    pytest.fail("the condition did not hold in time")


def transferred_case(client: TestClient) -> str:
    case_id = open_case(client)
    client.post(f"/agents/ana/cases/{case_id}/take")
    client.post(f"/agents/ana/cases/{case_id}/move", data={"trigger": "start_service"})
    client.post(f"/agents/ana/cases/{case_id}/transfer", data={"to": "bo", "handoff_note": "n"})
    return case_id


def test_the_background_tick_fires_due_timers(store: InMemoryStore, clock: ManualClock) -> None:
    with TestClient(create_app(store=store, clock=clock, tick_every=0.02)) as client:
        case_id = transferred_case(client)
        clock.advance(timedelta(days=2))  # the steward's follow-up falls due
        desk = desk_of(client)
        wait_for(lambda: any(isinstance(e, FollowUpDue) for e in desk.history(case_id)))


class FlakyStore(InMemoryStore):
    """A store whose due-timer query fails the first time it is asked."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    def find_due(
        self, *, until: datetime | None = None, limit: int | None = None
    ) -> list[CaseSummary]:
        if self.failures:
            self.failures -= 1
            msg = "the database went away for a moment"
            raise OSError(msg)
        return super().find_due(until=until, limit=limit)


def test_a_failing_tick_does_not_stop_the_background_ticker(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore()
    with TestClient(create_app(store=store, clock=clock, tick_every=0.02)) as client:
        case_id = transferred_case(client)
        clock.advance(timedelta(days=2))
        desk = desk_of(client)
        wait_for(lambda: any(isinstance(e, FollowUpDue) for e in desk.history(case_id)))
    assert store.failures == 0
    assert "the background tick failed" in caplog.text


def test_cases_outlive_the_application_on_an_sqlite_file(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = tmp_path / "helpdesk.sqlite"
    with TestClient(create_app(db_path=db, clock=clock, tick_every=None)) as client:
        case_id = open_case(client)
        client.post(f"/agents/ana/cases/{case_id}/take")
    with TestClient(create_app(db_path=db, clock=clock, tick_every=None)) as client:
        assert case_id in client.get("/agents/ana").text
        assert desk_of(client).case(case_id).owner.id == "ana"  # type: ignore[union-attr]


def test_the_server_script_serves_the_help_desk(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    examples = Path(__file__).resolve().parent.parent / "examples"
    command = [sys.executable, "-m", "web_app", "--db", str(tmp_path / "h.sqlite")]
    with subprocess.Popen(  # noqa: S603 - our own example, our own interpreter
        [*command, "--port", str(port), "--tick-every", "0.5"],
        env={**os.environ, "PYTHONPATH": str(examples)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as server:
        page = wait_for_page(server, f"http://127.0.0.1:{port}/")
        server.terminate()
        server.communicate(timeout=10)
    assert "/agents/ana" in page
    assert (tmp_path / "h.sqlite").exists()


def wait_for_page(server: subprocess.Popen[bytes], url: str) -> str:
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                    return str(answer.read().decode())
            except OSError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.1)
    except BaseException:
        server.kill()
        raise


class OneBadCase(InMemoryStore):
    """A store that cannot load one case once broken, as a damaged row would."""

    def __init__(self) -> None:
        super().__init__()
        self.bad: str | None = None

    def load(self, case_id: str, *, after_version: int = 0) -> CaseHistory:
        if case_id == self.bad:
            msg = f"row of {case_id} is damaged"
            raise RuntimeError(msg)
        return super().load(case_id, after_version=after_version)


def test_the_background_tick_logs_a_case_it_sets_aside_and_serves_the_others(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = OneBadCase()
    with TestClient(create_app(store=store, clock=clock, tick_every=0.02)) as client:
        bad, good = transferred_case(client), transferred_case(client)
        store.bad = bad
        clock.advance(timedelta(days=2))
        desk = desk_of(client)
        wait_for(lambda: any(isinstance(e, FollowUpDue) for e in desk.history(good)))
        wait_for(lambda: f"the tick could not serve case '{bad}'" in caplog.text)
