"""Assertion helpers for property tests, in array-api-tests' format.

A failing assertion prints what was observed, what it should have been, how the
verdict was reached and on which instance, and a snippet that replays it::

    proposition1: observed=1.25e-3 (exact), should be <= bound=1e-3
    [method=exact; d=2 c0=1 c1=1 padding=paper]
    replay: slth-check replay <witness.npz>   (or the snippet below)

Every property file uses these helpers instead of bare ``assert``s on verdicts.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.claims.base import Outcome

__all__ = ["assert_holds", "assert_not_violated", "assert_verdict", "assert_violated",
           "describe"]


def _num(x: Any) -> str:
    if x is None:
        return "-"
    kind = "exact" if isinstance(x, (int, Fraction)) else "float"
    return f"{float(x):.6g} ({kind})"


def _context(out: Outcome, context: dict[str, Any] | None) -> str:
    items = {k: v for k, v in out.extra.items() if isinstance(v, (str, int, float, bool))}
    items.update(context or {})
    bits = [f"method={out.method}"] + [f"{k}={v}" for k, v in items.items()]
    return "[" + "; ".join(bits) + "]"


def _snippet(out: Outcome) -> str:
    if not out.witness:
        return ""
    arrays = ", ".join(f"{k}=np.array({np.asarray(v).tolist()!r})"
                       for k, v in out.witness.items() if np.asarray(v).size <= 64)
    if not arrays:
        return f"\nwitness arrays: {sorted(out.witness)} (too large to print)"
    if out.extra.get("impl"):  # a user's conv2d under Definition 1: replay with it
        e = out.extra
        return ("\nreplay (with your function):\n    import numpy as np\n"
                "    from slth_check.claims.definition1 import ConvInstance, Definition1\n"
                "    from slth_check.testing.user_conv import user_conv\n"
                f"    impl = user_conv({e['impl']!r}, {tuple(e['impl_paddings'].split(','))!r}, "
                f"{tuple(int(s) for s in e['impl_strides'].split(','))!r})\n"
                f"    arrays = dict({arrays})\n"
                f"    print(Definition1(impl).check(ConvInstance(arrays['K'], arrays['X'], "
                f"{e.get('padding', 'paper')!r}, {e.get('stride', 1)!r})))")
    return ("\nreplay:\n    import numpy as np\n    from slth_check.claims import REGISTRY\n"
            f"    arrays = dict({arrays})\n"
            f"    print(REGISTRY[{out.claim!r}]().replay(arrays, {{}}))")


def describe(out: Outcome, relation: str = "<=", context: dict[str, Any] | None = None) -> str:
    """``claim: observed=... should be <relation> bound=... [method; instance]`` + replay."""
    head = f"{out.claim}: {out.verdict}"
    if out.observed is not None or out.bound is not None:
        head = (f"{out.claim}: observed={_num(out.observed)}, should be {relation} "
                f"bound={_num(out.bound)}")
    detail = f"\n{out.detail}" if out.detail else ""
    return f"{head} {_context(out, context)}{detail}{_snippet(out)}"


def assert_verdict(out: Outcome, expected: str, *, relation: str = "<=",
                   context: dict[str, Any] | None = None) -> None:
    """Assert ``out.verdict == expected`` with the message of :func:`describe`."""
    if out.verdict != expected:
        raise AssertionError(f"verdict {out.verdict!r}, should be {expected!r}: "
                             + describe(out, relation, context))


def assert_holds(out: Outcome, *, relation: str = "<=",
                 context: dict[str, Any] | None = None) -> None:
    """Assert the outcome holds (observed within its bound)."""
    assert_verdict(out, "holds", relation=relation, context=context)


def assert_violated(out: Outcome, *, relation: str = "<=",
                    context: dict[str, Any] | None = None) -> None:
    """Assert the outcome is a violation (a negative control broke as it should)."""
    assert_verdict(out, "violated", relation=relation, context=context)


def assert_not_violated(out: Outcome, *, relation: str = "<=",
                        context: dict[str, Any] | None = None) -> None:
    """Assert the outcome is ``holds`` or ``unknown`` (a bound allowed to fail with its
    stated probability): only for outcomes made by ``compare_or_unknown``."""
    if out.verdict not in ("holds", "unknown"):
        raise AssertionError(f"verdict {out.verdict!r}, should be 'holds' or 'unknown': "
                             + describe(out, relation, context))
