"""The documentation site builds with every warning an error and every reference checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sphinx.util.inventory import InventoryFile

import servicekit
import servicekit.metrics
import servicekit.stores
import servicekit.testing

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(  # noqa: S603 - Sphinx from our own interpreter, on our own docs
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-n",
            "-E",
            "-q",
            "-b",
            "html",
            str(ROOT / "docs"),
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return out, build


@pytest.mark.slow
def test_the_site_builds_with_no_warning(
    site: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, build = site
    assert build.returncode == 0, build.stderr
    assert build.stderr == ""
    assert (out / "index.html").exists()


def test_the_reference_documents_every_public_name(
    site: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, _ = site
    with (out / "objects.inv").open("rb") as inventory:
        objects = InventoryFile.load(inventory, "", lambda base, uri: base + uri)
    documented = {
        full.rsplit(".", 1)[-1]
        for kind, entries in objects.items()
        if kind.startswith("py:")
        for full in entries
    }
    for module in (servicekit, servicekit.metrics, servicekit.stores, servicekit.testing):
        missing = sorted(set(module.__all__) - documented)
        assert not missing, f"{module.__name__}: {missing}"
