"""Clocks: the only place servicekit reads the time.

The domain takes time as a parameter; the service desk asks its `Clock`. Use
`SystemClock` in production and `ManualClock` in tests and simulations.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from servicekit._values import utc
from servicekit.errors import InvalidValue

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current time as an aware datetime."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...  # pragma: no cover - a protocol has no body


class SystemClock:
    """The computer's clock, in UTC."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        """Say what it is."""
        return "SystemClock()"


class ManualClock:
    """A clock that moves only when told to: for tests, demos and simulations.

    Thread-safe, so that concurrent desks in a test see one consistent time.
    """

    def __init__(self, start: datetime) -> None:
        """Start at the aware time `start`."""
        self._now = utc(start, what="the clock's start")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The time the clock was set to."""
        return self._now  # one attribute read is atomic: writers hold the lock, readers need not

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` (zero or more) and return the new time."""
        if not isinstance(delta, timedelta) or delta < timedelta(0):
            msg = f"a clock only moves forward; got {delta!r}"
            raise InvalidValue(msg)
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        """Jump to the aware time `moment`, which must not be in the clock's past."""
        target = utc(moment, what="the clock's new time")
        with self._lock:
            if target < self._now:
                msg = (
                    f"a clock only moves forward; it is {self._now.isoformat()}, "
                    f"got {target.isoformat()}"
                )
                raise InvalidValue(msg)
            self._now = target

    def __repr__(self) -> str:
        """Show the time it shows."""
        return f"ManualClock({self._now.isoformat()})"
