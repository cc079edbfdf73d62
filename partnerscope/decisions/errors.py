"""The errors the decision methods raise: one base class, so callers catch bad input in one place."""

from __future__ import annotations

from typing import Any


class DecisionError(ValueError):
    """Bad input to a decision method. The message names the offending row, column or field."""


class InconsistentJudgements(DecisionError):
    """AHP pairwise judgements too inconsistent to derive weights from (consistency ratio above the limit).

    ``result`` is the full :class:`~partnerscope.decisions.ahp.AhpResult`, so a page can still show the
    weights, the ratio and the judgement to revisit.
    """

    def __init__(self, message: str, result: Any):
        super().__init__(message)
        self.result = result
