"""What the command line reads: databases that must exist, ``MODULE:NAME`` definitions, dates."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path

import attrs

from servicekit.buying_cycle import buying_cycle
from servicekit.cli import demo
from servicekit.errors import InvalidWorkflow, ServiceKitError
from servicekit.sla import PolicySet
from servicekit.stores.sqlite import SQLiteStore
from servicekit.workflow import Workflow

__all__ = [
    "BadInput",
    "Definitions",
    "definitions",
    "import_module",
    "open_database",
    "parse_day",
    "resolve",
]


class BadInput(Exception):
    """What a person typed cannot be used; the message says what is wrong, on one line."""


def _sqlite_header(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(16) == b"SQLite format 3\x00"


@contextmanager
def open_database(path: Path) -> Iterator[SQLiteStore]:
    """Open an existing servicekit database, never creating one.

    A missing path, a directory, an empty file and a file that is not SQLite are
    refused before SQLite is asked to open anything, so that a typo leaves no new
    file behind.
    """
    if not path.exists():
        msg = f"{str(path)!r} does not exist (create one with: servicekit demo --db {path})"
        raise BadInput(msg)
    if not path.is_file():
        msg = f"{str(path)!r} is not a file"
        raise BadInput(msg)
    if path.stat().st_size == 0:
        msg = f"{str(path)!r} is an empty file, not a servicekit database"
        raise BadInput(msg)
    if not _sqlite_header(path):
        msg = f"{str(path)!r} is not a servicekit database (not an SQLite file)"
        raise BadInput(msg)
    with SQLiteStore(path) as store:
        yield store


@attrs.frozen
class Definitions:
    """The workflows and SLA policies a command runs with."""

    workflows: tuple[Workflow, ...]
    sla: PolicySet | None

    def workflow(self, name: str) -> Workflow | None:
        """The workflow called `name`, or None if it was not given."""
        for workflow in self.workflows:
            if workflow.name == name:
                return workflow
        return None

    @property
    def names(self) -> str:
        """The workflows' names, for messages."""
        return ", ".join(workflow.name for workflow in self.workflows)


def resolve(reference: str) -> object:
    """Import ``MODULE:NAME`` (or ``path/to/file.py:NAME``) and return the value it names.

    A callable is called with no arguments, so that a factory like
    ``servicekit:buying_cycle`` gives its workflow. The current directory is
    searched first, as ``python -m`` does.
    """
    module_name, colon, attribute = reference.partition(":")
    if not colon or not module_name or not attribute:
        msg = f"{reference!r} is not MODULE:NAME (for example servicekit:buying_cycle)"
        raise BadInput(msg)
    module_name = _module_name(module_name)
    module = import_module(module_name, reference)
    value: object = module
    for part in attribute.split("."):
        if not hasattr(value, part):
            msg = f"{module_name!r} has no {attribute!r} (from {reference!r})"
            raise BadInput(msg)
        value = getattr(value, part)
    if callable(value) and not isinstance(value, Workflow | PolicySet | type):
        try:
            value = value()
        except (InvalidWorkflow, ServiceKitError):
            raise
        except Exception as error:  # noqa: BLE001 - the user's code: say what it raised, in a line
            msg = f"{reference} raised {type(error).__name__}: {error}"
            raise BadInput(msg) from None
    return value


def import_module(module_name: str, reference: str) -> object:
    """Import the user's module, turning whatever it raises into one line."""
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        msg = f"cannot import {module_name!r} from {reference!r}: {error}"
        raise BadInput(msg) from None
    except Exception as error:  # noqa: BLE001 - the user's code: say what it raised, in a line
        msg = f"importing {module_name!r} from {reference!r} raised {type(error).__name__}: {error}"
        raise BadInput(msg) from None


def _module_name(text: str) -> str:
    if text.endswith(".py"):
        path = Path(text).resolve()
        if not path.is_file():
            msg = f"there is no Python file {text!r}"
            raise BadInput(msg)
        sys.path.insert(0, str(path.parent))
        return path.stem
    here = str(Path.cwd())
    if here not in sys.path:
        sys.path.insert(0, here)
    return text


def _workflows_in(reference: str, value: object) -> list[Workflow]:
    if isinstance(value, Workflow):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        items = list(value)
        if items and all(isinstance(item, Workflow) for item in items):
            return items
    msg = f"{reference!r} is a {type(value).__name__}, not a Workflow or a list of them"
    raise BadInput(msg)


def definitions(
    workflows: Iterable[str], sla: str | None, *, only_buying_cycle: bool = False
) -> Definitions:
    """The workflows and SLA policies named on the line.

    When no workflow is named: the workflows servicekit ships (the buying cycle
    and the demo's support workflow), or the buying cycle alone if
    `only_buying_cycle`.
    """
    found: list[Workflow] = []
    for reference in workflows:
        try:
            found += _workflows_in(reference, resolve(reference))
        except InvalidWorkflow as error:
            problems = "; ".join(error.problems)
            msg = f"{reference}: workflow {error.workflow!r} is invalid: {problems}"
            raise BadInput(msg) from None
        except ServiceKitError as error:
            msg = f"{reference}: {_one_line(str(error))}"
            raise BadInput(msg) from None
    policies = None
    if sla is not None:
        try:
            value = resolve(sla)
        except ServiceKitError as error:
            msg = f"{sla}: {_one_line(str(error))}"
            raise BadInput(msg) from None
        if not isinstance(value, PolicySet):
            msg = f"{sla!r} is a {type(value).__name__}, not a PolicySet"
            raise BadInput(msg)
        policies = value
    if not found:
        found = [buying_cycle()] if only_buying_cycle else demo.workflows()
    return Definitions(tuple(found), policies)


def _one_line(text: str) -> str:
    return " ".join(part.strip(" -") for part in text.splitlines() if part.strip())


def parse_day(text: str | None, *, option: str) -> datetime | None:
    """A date (``2024-07-01``) or an aware date and time, as an aware UTC datetime."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        msg = f"{option} takes a date like 2024-07-01 or 2024-07-01T09:00+02:00, got {text!r}"
        raise BadInput(msg) from None
    if len(text) == len("2024-07-01"):
        moment = datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    if moment.tzinfo is None:
        msg = f"{option} needs a time zone with its time (2024-07-01T09:00+02:00), got {text!r}"
        raise BadInput(msg)
    return moment.astimezone(UTC)
