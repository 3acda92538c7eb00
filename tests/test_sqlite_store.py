"""The SQLite store keeps the storage contract, and guards its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from servicekit.stores import SQLiteStore
from servicekit.testing import StoreContract


class TestSQLiteStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path

    def make_store(self) -> SQLiteStore:
        return SQLiteStore(self.folder / "servicekit.sqlite", synchronous="NORMAL")
