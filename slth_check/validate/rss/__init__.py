"""Validation of a user's random-subset-sum solver (:mod:`slth_check.validate.rss.core`):
answers, generation."""

from slth_check.validate.rss.core import (
    Answer,
    AnswerError,
    check_result,
    interpret,
    normalise_answer,
    optimality_slack,
    resolve,
    rss_cases,
    sum_tolerance,
    validate_rss,
)

__all__ = [
    "Answer", "AnswerError", "check_result", "interpret", "normalise_answer",
    "optimality_slack", "resolve", "rss_cases", "sum_tolerance", "validate_rss"
]
