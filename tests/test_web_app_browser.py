"""A case's whole life in the web example, in headless Chromium, clicking the real buttons."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

import pytest
import uvicorn
from browser import launch, network_requests
from web_app import create_app

from servicekit import ManualClock, ServiceDesk

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, in office hours


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """The example served by uvicorn on the loopback address, in a thread of the test."""

    def __init__(self, db: Path, clock: ManualClock) -> None:
        self.app = create_app(db_path=db, clock=clock, tick_every=0.05)
        self.port = free_port()
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", ws="none"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def desk(self) -> ServiceDesk:
        desk = self.app.state.desk
        assert isinstance(desk, ServiceDesk)
        return desk

    def __enter__(self) -> Self:  # noqa: D105 - starts the server and waits for it
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                pytest.fail("the web example did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:  # noqa: D105 - stops the server
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with Server(tmp_path / "helpdesk.sqlite", ManualClock(START)) as server:
        yield server


def test_a_case_lives_its_whole_life_in_the_browser(server: Server) -> None:  # noqa: PLR0915 - one walk
    clock = server.desk.clock
    assert isinstance(clock, ManualClock)
    with launch() as browser:
        page = browser.new_page()
        page.set_default_timeout(5_000)
        requests = network_requests(page)

        # The customer opens a case from the form.
        page.goto(f"{server.url}/cases/new")
        page.get_by_label("Your customer id").fill("ivy")
        page.get_by_label("How do you reach us").select_option("chat")
        page.get_by_label("What do you need").fill("The router drops the Wi-Fi every evening")
        page.get_by_role("button", name="Open the case").click()
        case_id = page.locator("#opened").inner_text()
        assert "The router drops the Wi-Fi" in page.content()

        # Ana finds it waiting in intake, takes it, starts service and answers.
        page.goto(f"{server.url}/agents/ana")
        page.locator("#intake").get_by_role("link", name=case_id).click()
        page.get_by_role("button", name="Take").click()
        assert page.locator("#owner").inner_text() == "ana"
        page.get_by_role("button", name="Start service").click()
        page.get_by_label("reply").fill("Please send the router's logs")
        page.get_by_role("button", name="Send reply").click()
        assert "first_response: met" in page.locator("#sla").inner_text()

        # She transfers it to bo with a note; bo reads it in the briefing and waits on ivy.
        page.get_by_label("transfer to").select_option("bo")
        page.get_by_label("handoff note").fill("Logs asked for; please test the line")
        page.get_by_role("button", name="Transfer").click()
        page.goto(f"{server.url}/agents/bo")
        page.locator("#owned").get_by_role("link", name=case_id).click()
        assert (
            "ana -> bo: Logs asked for; please test the line"
            in page.locator("#briefing").inner_text()
        )
        page.get_by_role("button", name="Wait on customer").click()
        assert page.locator("#stage").inner_text() == "waiting_on_customer"

        # Ivy answers on her page; bo resumes and resolves.
        page.goto(f"{server.url}/customers/ivy")
        page.get_by_label("Write to us").fill("Logs are in the email I sent")
        page.get_by_role("button", name="Send").click()
        page.goto(f"{server.url}/agents/bo/cases/{case_id}")
        page.get_by_role("button", name="Resume").click()
        page.get_by_role("button", name="Resolve").click()
        assert page.locator("#stage").inner_text() == "resolved"

        # Ana, the steward, completes her follow-ups: ivy was served.
        page.goto(f"{server.url}/agents/ana/cases/{case_id}")
        while page.get_by_role("button", name="Complete follow-up").count():
            page.get_by_role("button", name="Complete follow-up").first.click()
        assert server.desk.case(case_id).open_follow_ups == ()

        # The background tick closes the served case; ivy rates the service.
        clock.advance(timedelta(minutes=5))
        deadline = time.monotonic() + 10
        while server.desk.case(case_id).stage != "closed":
            assert time.monotonic() < deadline, "the tick did not close the served case"
            time.sleep(0.05)
        page.goto(f"{server.url}/agents/ana/cases/{case_id}")
        assert page.locator("#stage").inner_text() == "closed"
        page.goto(f"{server.url}/customers/ivy")
        page.get_by_label("Survey").select_option("csat")
        page.get_by_label("Score").fill("5")
        page.get_by_role("button", name="Rate").click()
        assert "CSAT 5/5" in page.locator(".timeline").inner_text()

        assert all(url.startswith(server.url) for url in requests), requests
    case = server.desk.case(case_id)
    assert (case.owner.id, case.steward.id) == ("bo", "ana")  # type: ignore[union-attr]
    assert [(f.survey.value, f.score) for f in case.feedback] == [("csat", 5)]
