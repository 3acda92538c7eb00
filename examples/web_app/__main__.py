"""Serve the help desk: ``PYTHONPATH=examples python -m web_app --db helpdesk.sqlite``."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from web_app.app import create_app


def main() -> None:
    """Parse the options and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m web_app", description=__doc__)
    parser.add_argument("--db", type=Path, default=Path("helpdesk.sqlite"), help="SQLite file")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--tick-every",
        type=float,
        default=30.0,
        help="seconds between two ticks of the background timer task (0: no ticks; run "
        "`servicekit tick` as a worker instead)",
    )
    options = parser.parse_args()
    app = create_app(db_path=options.db, tick_every=options.tick_every or None)
    uvicorn.run(app, host=options.host, port=options.port)


if __name__ == "__main__":
    main()
