"""``validate pruned`` on crafted pairs with known exact sup errors: never ``holds`` at an
eps the network exceeds, never ``violated`` at an eps above its sup, and the verdict
the exact value calls for where the certificate can reach it."""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from slth_check.certify import exact_error
from slth_check.cli.main import main
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

sys.path.insert(0, str(Path(__file__).parent))
import pruned_zoo


def _case(name):
    t, p, sup, why = pruned_zoo.ZOO[name]()
    f, g = TargetCNN(t), PrunedCNN(p)
    D = f.certification_size()
    at_ones = exact_error(f, g, np.ones((D, D, f.c0)))
    if sup is None:  # monotone by construction: the sup is the value at x = 1
        sup = at_ones
    assert at_ones == sup, (name, why)  # the hand-derived value replays exactly
    return t, p, sup


@pytest.mark.parametrize("name", sorted(pruned_zoo.ZOO))
@pytest.mark.parametrize("side", ["below", "above"])
def test_verdict_agrees_with_the_exact_sup(name, side, tmp_path):
    t, p, sup = _case(name)
    assert sup > 0
    eps = sup / 2 if side == "below" else sup * 2
    files = pruned_zoo.write(tmp_path, t, p)
    out = tmp_path / "v.json"
    rc = main(["validate", "pruned", "--target", files[0], "--random", files[1], "--masks",
               files[2], "--eps", repr(float(eps)), "--json", str(out)])
    v = json.loads(out.read_text())
    assert Fraction(v["lower"]) <= sup <= Fraction(v["upper"]), v
    if side == "below":
        assert (rc, v["verdict"]) == (1, "violated"), v["message"]
    else:
        assert (rc, v["verdict"]) == (0, "holds"), v["message"]


def test_deep_offset_at_a_small_D_is_scoped_not_false(tmp_path):
    """At D = 3 (the old default, max d + 1) the error is invisible: 'holds' is then only
    a statement about 3 x 3 inputs, and the message says so."""
    t, p, sup = _case("deep_offset")
    files = pruned_zoo.write(tmp_path, t, p)
    out = tmp_path / "v.json"
    rc = main(["validate", "pruned", "--target", files[0], "--random", files[1], "--masks",
               files[2], "--eps", "0.25", "--D", "3", "--json", str(out)])
    v = json.loads(out.read_text())
    assert rc == 0 and "smaller than the receptive field 4" in v["message"]
