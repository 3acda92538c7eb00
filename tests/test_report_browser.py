"""The HTML report in headless Chromium: charts visible, the figures KpiReport's, no network."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from browser import launch, network_requests

from servicekit import SQLiteStore
from servicekit.cli.demo import policies, simulate, workflows
from servicekit.report.html import HEADLINE, gather, render_html

metrics = pytest.importorskip("servicekit.metrics")


@pytest.fixture(scope="module")
def page_and_figures(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, object]:
    path = tmp_path_factory.mktemp("report") / "demo.sqlite"
    with SQLiteStore(path, synchronous="OFF") as store:
        simulate(store, days=2, seed=3)
        stored = store.read_all()
    data = gather(stored, title="Demo", workflows=workflows(), sla=policies())
    # The oracle: metrics' own report on the same events, computed here and not by the page.
    figures = metrics.compute(stored, workflows=workflows(), sla=policies())
    return render_html(data), figures


def _shown(text: str) -> float | None:
    """The number a person reads in a tile: a percentage as a fraction, a duration in seconds."""
    if text == "\N{EM DASH}":
        return None
    if text.endswith("%"):
        return float(text[:-1]) / 100
    duration = re.fullmatch(r"(?:(\d+)h )?(\d+)m", text)
    if duration:
        return int(duration[1] or 0) * 3600 + int(duration[2]) * 60
    return float(text.split(maxsplit=1)[0].replace(",", ""))


def _expected(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return float(sum(value.values()))
    assert isinstance(value, int | float)
    return float(value)


def test_every_chart_is_visible_with_a_size(page_and_figures: tuple[str, object]) -> None:
    html, _ = page_and_figures
    with launch() as browser:
        page = browser.new_page()
        page.set_content(html)
        charts = page.locator("svg.chart")
        assert charts.count() == 5
        for index in range(charts.count()):
            chart = charts.nth(index)
            assert chart.is_visible()
            # The drawing area itself, without the border the page draws around it.
            width, height = chart.evaluate("svg => [svg.clientWidth, svg.clientHeight]")
            assert width > 0
            assert height > 0
            assert chart.locator("rect, polyline, circle").count() > 0


def test_the_figures_on_the_page_are_the_kpi_reports(page_and_figures: tuple[str, object]) -> None:
    html, figures = page_and_figures
    with launch() as browser:
        page = browser.new_page()
        page.set_content(html)
        tiles = page.locator(".tile")
        shown = {
            tiles.nth(i).get_attribute("data-kpi"): tiles.nth(i).locator(".value").inner_text()
            for i in range(tiles.count())
        }
    assert set(HEADLINE) - set(shown) == set()
    for kpi, text in shown.items():
        assert kpi is not None
        expected = _expected(figures.value(kpi))  # type: ignore[attr-defined]
        seen = _shown(text)
        if expected is None:
            assert seen is None, kpi
        else:
            assert seen is not None, kpi
            # The page rounds: to a minute, to a tenth of a per cent, to a hundredth.
            assert seen == pytest.approx(expected, abs=60 if ":" not in kpi and "time" in kpi
                                         else 0.01), kpi  # fmt: skip


def test_the_page_makes_no_network_request(page_and_figures: tuple[str, object]) -> None:
    html, _ = page_and_figures
    with launch() as browser:
        page = browser.new_page()
        requests = network_requests(page)
        page.set_content(html)
        page.wait_for_load_state("networkidle")
        assert requests == []
    assert "<script" not in html
    assert " src=" not in html
    assert "<link" not in html
