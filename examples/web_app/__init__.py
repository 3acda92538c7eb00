"""A small help desk on the web: FastAPI, server-rendered pages, servicekit underneath.

Run it with ``PYTHONPATH=examples python -m web_app --db helpdesk.sqlite`` and open
http://127.0.0.1:8000/. `create_app` builds the application for a store, a clock and
an agent directory of your choosing (the tests use a manual clock).
"""

from web_app.app import create_app

__all__ = ["create_app"]
