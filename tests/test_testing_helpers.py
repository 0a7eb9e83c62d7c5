"""The assertion helpers print observed vs bound, the method and a replay snippet."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from slth_check.claims.base import compare
from slth_check.claims.proposition1 import Prop1Instance, Proposition1
from slth_check.testing.assertions import assert_holds, assert_not_violated, assert_violated


def test_failure_message_names_observed_bound_method_and_replays():
    out = compare("proposition1", Fraction(5, 4), Fraction(1), method="exact",
                  witness={"K": np.ones((1, 1, 1, 1)), "X": np.ones((1, 1, 1))},
                  extra={"padding": "paper"})
    with pytest.raises(AssertionError) as info:
        assert_holds(out, context={"d": 1})
    msg = str(info.value)
    assert "proposition1: observed=1.25 (exact), should be <= bound=1 (exact)" in msg
    assert "[method=exact; padding=paper; d=1]" in msg
    snippet = msg.split("replay:\n", 1)[1]
    ns: dict = {}
    exec("\n".join(line[4:] for line in snippet.splitlines()).replace("print(", "result = ("),
         ns)  # the snippet runs and replays the witness with the claim
    assert ns["result"].verdict == "holds"  # the reference satisfies Proposition 1 there
    assert_violated(out)


def test_not_violated_accepts_unknown_only_for_allowed_failures():
    ok = Proposition1().run(Prop1Instance(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1))))
    assert_not_violated(ok)
    bad = compare("lemma2", Fraction(2), Fraction(1), method="closed-form")
    with pytest.raises(AssertionError, match="should be 'holds' or 'unknown'"):
        assert_not_violated(bad)
