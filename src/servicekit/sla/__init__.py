"""SLA policies and clocks: answers on time, measured on business hours, explained.

A `PolicySet` is an ordered list of `Policy` values; the first whose `Conditions`
match a case (priority, channel, stage, customer tier, workflow) applies. A
policy has a version, a `BusinessCalendar` and `Target`s: first response, next
response (each inbound message needs an answer), periodic update, resolution,
and "reach stage S within N", each in business hours ("4h") or business days
("2 business days").

`SlaTracker` folds a case's history into its clocks, taking only events it has
not seen; `assess(history, policies, now=...)` does it from scratch. Either gives
an `SlaReport`: per clock its state (running, paused, met, breached, stopped), due
time, remaining business time, who owned the case while it ran (attribution),
and an explanation that replays the same way every time. Each target says which
stage categories pause it (`pause_in`, pending by default) and whether an explicit
pause does (`pausable`). A change of priority (or of the stage, where a policy
depends on it) may bring another policy: the deadline is recalculated, the
business time already elapsed is kept, and a target that has already passed was
breached when its budget ran out. Finishing a case stops its clocks.

Everything here is pure: time comes in as arguments.

Modules: `policies` (what is promised), `tracker` (the fold), `report` (what it says).
"""

from servicekit.sla.policies import (
    BusinessDays,
    Conditions,
    Facts,
    Metric,
    Policy,
    PolicySet,
    Target,
)
from servicekit.sla.report import ClockSegment, ClockState, ClockStatus, SlaReport
from servicekit.sla.tracker import SlaTracker, SupervisorsOf, TeamsOf, assess

__all__ = [
    "BusinessDays",
    "ClockSegment",
    "ClockState",
    "ClockStatus",
    "Conditions",
    "Facts",
    "Metric",
    "Policy",
    "PolicySet",
    "SlaReport",
    "SlaTracker",
    "SupervisorsOf",
    "Target",
    "TeamsOf",
    "assess",
]
