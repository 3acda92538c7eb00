"""The ``servicekit`` command: a simulated service, its KPI report, diagrams, checks, timers.

Run ``servicekit --help`` for the commands. `main` is what the console script
calls; it returns the exit status instead of exiting, so that it can be called
from Python too. Bad input gets one line on stderr and the status 1, never a
traceback; output into a closed pipe (``| head``) ends quietly.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence

from cyclopts import CycloptsError

from servicekit.cli import _output
from servicekit.cli._app import app
from servicekit.cli._inputs import BadInput
from servicekit.errors import ServiceKitError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on `argv` (the process's arguments by default); return its status."""
    tokens = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            status = app(
                tokens,
                exit_on_error=False,
                print_error=False,
                help_on_error=False,
                result_action="return_value",
            )
        except CycloptsError as error:
            command = " ".join(["servicekit", *(error.command_chain or ())]).strip()
            return _output.fail(str(error), hint=f"see {command} --help")
        except (BadInput, ServiceKitError, sqlite3.Error) as error:
            return _output.fail(str(error))
        except OSError as error:
            if isinstance(error, BrokenPipeError):
                raise
            return _output.fail(
                f"{error.strerror}: {error.filename!r}" if error.filename else str(error)
            )
        except KeyboardInterrupt:
            return _output.fail("interrupted") + 129  # 130, as a shell reports SIGINT
        sys.stdout.flush()
    except BrokenPipeError:
        _output.silence_stdout()
        return _output.CLOSED_PIPE
    return status if isinstance(status, int) else 0
