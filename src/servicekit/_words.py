"""How messages put values into words (private)."""

from __future__ import annotations

from collections.abc import Iterable


def listing(values: Iterable[object]) -> str:
    """Values quoted and joined as a person lists them: "'a'", "'a' and 'b'", "'a', 'b' and 'c'"."""
    quoted = [repr(value) for value in values]
    if len(quoted) < 2:  # noqa: PLR2004 - one value, or none
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])} and {quoted[-1]}"
