"""How the command line fails: one line on stderr, a non-zero status, quiet in a closed pipe."""

from __future__ import annotations

import os
import sys

__all__ = ["CLOSED_PIPE", "fail", "problem", "silence_stdout"]

CLOSED_PIPE = 141
"""The status a shell reports for a program ended by SIGPIPE (128 + 13)."""


def problem(text: str) -> None:
    """Write one problem to stderr, on one line."""
    sys.stderr.write(" ".join(text.split("\n")) + "\n")


def fail(text: str, *, hint: str | None = None) -> int:
    """Report a failure on one line of stderr and return the exit status 1."""
    line = f"servicekit: {' '.join(part.strip() for part in text.splitlines() if part.strip())}"
    if hint is not None:
        line += f" ({hint})"
    sys.stderr.write(line + "\n")
    return 1


def silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the interpreter's final flush is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
