"""The service desk: the application service a host application calls all day.

`ServiceDesk` is the front door; the modules beside it each do one job (see
`servicekit.desk.service_desk`).
"""

from servicekit.desk.directory import ActorRef, AgentRef
from servicekit.desk.results import Briefing, CaseProblem, Outcome, TickReport, TimelineEntry
from servicekit.desk.service_desk import ServiceDesk

__all__ = [
    "ActorRef",
    "AgentRef",
    "Briefing",
    "CaseProblem",
    "Outcome",
    "ServiceDesk",
    "TickReport",
    "TimelineEntry",
]
