"""Supervisor analytics (issue 27, part 1): dashboard figures, the conversations behind them, CSAT and
knowledge gaps. docs/analytics.md describes each figure and how it is counted."""

from assistant.analytics.csat import AlreadyRated, CsatRepository, asks_survey
from assistant.analytics.filters import Filters
from assistant.analytics.gaps import GapConfig, KnowledgeGaps
from assistant.analytics.service import Analytics, UnknownFigure

__all__ = ["AlreadyRated", "Analytics", "CsatRepository", "Filters", "GapConfig", "KnowledgeGaps", "UnknownFigure",
           "asks_survey"]
