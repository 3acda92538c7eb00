"""Surveys: the scales on which a customer says how they were served."""

from __future__ import annotations

import enum

__all__ = ["Survey"]


class Survey(enum.Enum):
    """A feedback survey and its scale: CSAT 1-5, NPS 0-10, CES 1-7."""

    CSAT = "csat"
    """Customer satisfaction: "how satisfied were you?", from 1 to 5."""
    NPS = "nps"
    """Net promoter score: "how likely are you to recommend us?", from 0 to 10."""
    CES = "ces"
    """Customer effort score: "how easy was it to get your issue handled?", from 1 to 7."""

    @property
    def scale(self) -> tuple[int, int]:
        """The lowest and the highest score the survey allows."""
        return _SCALES[self]


_SCALES = {Survey.CSAT: (1, 5), Survey.NPS: (0, 10), Survey.CES: (1, 7)}
