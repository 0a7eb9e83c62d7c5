"""Lemma 1: Lemma 2's construction and check with one output channel (c1 = 1)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from slth_check.claims.base import Outcome
from slth_check.claims.lemma2 import Lemma2
from slth_check.proofs import outcome_fields


class Lemma1(Lemma2):
    id = "lemma1"
    c1_choices = (1,)
    statement = ("Lemma 1: with n >= C log(d^2 c/eps) and U, V i.i.d. Unif([-1,1]), with "
                 "probability >= 1 - eps every K in [-1,1]^{d x d x c x 1} with ||K||_1 <= 1 has "
                 "a mask S with sup_{X in [0,1]} ||K*X - V*sigma((U.S)*X)||_max < eps. Checked "
                 "on the proof's construction, error certified exactly (closed form).")

    def extra_outcomes(self, rng: np.random.Generator, profile: str) -> Iterator[Outcome]:
        yield Outcome(self.id, **outcome_fields(self.id))  # Eq. 1-2 and step 4, all sizes


__all__ = ["Lemma1"]
