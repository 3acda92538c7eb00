"""KPIs computed from case histories: from scratch with `compute`, incrementally with `Projection`.

Every figure follows a published formula (see docs/metrics.md): first response
and resolution times (Zendesk's first reply, first and full resolution time),
SLA attainment, one-touch and first-contact resolution, reopen rate, transfers
per case, follow-up completion, conversion and won value, time in stage, CSAT,
NPS, CES and the feedback response rate. Durations are business time on a
calendar, with the wall-clock time beside them. Everything here is pure: the
events come in as arguments.
"""

from servicekit.metrics._projection import Projection, compute
from servicekit.metrics._report import KPIS, KpiReport, KpiRow, SkippedCase

__all__ = ["KPIS", "KpiReport", "KpiRow", "Projection", "SkippedCase", "compute"]
