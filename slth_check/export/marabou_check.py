"""A cross-check of the certified bracket by the Marabou verifier (optional ``verify`` extra).

slth-check certifies ``lower <= sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max <= upper``
(:func:`~slth_check.certify.certificate.sup_error`; Theorem 1's error on a built pair).
Marabou (Wu et al., CAV 2024; ``pip install 'slth-check[verify]'``, which installs
``maraboupy``) decides the same property independently:

    exists X in [0, 1]^{D x D x c0} with max_j |f(X) - g(X)|_j >= t ?

:func:`~slth_check.export.marabou.difference_query` encodes f and g side by side as one
Marabou ``InputQuery`` (float64 coefficients); :func:`marabou_exceeds` splits
``max_j |y_j| >= t`` (``y = f - g``) into one query per entry j and sign s, the bound
``s y_j >= t``: Marabou 2.0.0 answered "unsat" on queries that an exactly replayed input
satisfies when the split was one disjunction constraint, and, with ``|.|`` and max
constraints at the output, failed ("ERROR") or ran past its timeout on max pooling.

Marabou works in floating point with tolerances, so its answers are *claims*:
:func:`cross_check` asks "SAT at ``(1 - margin) lower``" (the counterexample is replayed
exactly by :func:`~slth_check.certify.exact.exact_error`, in Fractions, and must reach the
threshold up to :data:`REPLAY_TOLERANCE` and stay <= ``upper``) and "UNSAT at
``(1 + margin) upper``".  The outcome is agreement or a list of problems; it never turns
any slth-check verdict into "holds".
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.certify.exact import exact_error
from slth_check.export.marabou import (
    MarabouQuery,
    bounded_query,
    network_query,
    require_marabou,
)
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

__all__ = ["REPLAY_TOLERANCE", "CrossCheck", "MarabouAnswer", "cross_check", "marabou_exceeds"]

#: Absolute slack allowed between Marabou's SAT threshold and the exact replay of its
#: counterexample (Marabou satisfies its equations up to a tolerance: residuals of 1e-5
#: were seen, and a counterexample replaying 1.4e-7 below a threshold of 0.027).
REPLAY_TOLERANCE = 5e-5


def _ask_all(core: Any, q: MarabouQuery, cases: list[tuple[int, int]], threshold: float,
             timeout: int, keep: list[int], send: Any) -> None:
    """In the child: one Marabou query per (variable, sign) of ``cases``, each result sent
    as ``(exit code, values of keep)``, stopping at the first "sat" or past ``timeout``."""
    t0 = time.perf_counter()
    for k, (v, s) in enumerate(cases):
        left = timeout - (time.perf_counter() - t0)
        if k and left <= 0:
            break
        options = core.Options()
        options._verbosity = 0
        options._timeoutInSeconds = max(1, int(np.ceil(left)))
        code, vals, _ = core.solve(bounded_query(core, q, v, s, threshold), options, "")
        send((code, {u: float(vals[u]) for u in keep} if code == "sat" else {}))
        if code == "sat":
            break
    send(("done", {}))


def ask_killable(core: Any, q: MarabouQuery, cases: list[tuple[int, int]], threshold: float,
                 timeout: int, keep: list[int]) -> tuple[list[str], dict[int, float]]:
    """``(exit codes, values of keep at a "sat")`` of :func:`_ask_all` run in a forked
    child process, killed (SIGKILL: Marabou ignores SIGTERM) ``timeout + 5`` seconds in:
    Marabou 2.0.0 did not always honour its own timeout.  A child still busy then adds
    ``"TIMEOUT"``, one that died ``"ERROR"``."""
    ctx = multiprocessing.get_context("fork")
    here, there = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_ask_all, args=(core, q, cases, threshold, timeout, keep,
                                              there.send), daemon=True)
    deadline = time.perf_counter() + timeout + 5
    proc.start()
    there.close()  # the child's end: a child that dies makes poll() see EOF at once
    codes: list[str] = []
    vals: dict[int, float] = {}
    try:
        while True:
            if not here.poll(max(0.0, deadline - time.perf_counter())):
                codes.append("TIMEOUT")
                break
            code, vals = here.recv()
            if code == "done":
                break
            codes.append(code)
            if code == "sat":
                break
    except EOFError:
        codes.append("ERROR")
    finally:
        proc.kill()
        proc.join()
    return codes, vals


@dataclass(frozen=True)
class MarabouAnswer:
    """Marabou's answer to "some X has ``||f(X) - g(X)||_max >= threshold``": ``status``
    "sat", "unsat" (every output and sign unsat) or "unknown" (a TIMEOUT or ERROR and no
    sat); for "sat" the counterexample ``X`` (clipped to [0, 1]) and its exact error
    ``replayed`` (Fractions); ``queries`` Marabou calls were made."""

    status: str
    threshold: float
    seconds: float
    X: np.ndarray | None = None
    replayed: Fraction | None = None
    raw: str = ""
    queries: int = 0


def marabou_exceeds(target: TargetCNN, pruned: PrunedCNN, D: int, threshold: float, *,
                    timeout: int = 120, max_pool: str = "relu",
                    hint: np.ndarray | None = None) -> MarabouAnswer:
    """Ask Marabou whether some X in the box has ``||f(X) - g(X)||_max >= threshold``:
    one query per output entry and sign (the absolute value split), stopping at the first
    SAT, whose input is replayed exactly by :func:`exact_error`; ``timeout`` (seconds)
    bounds all queries together.  The entries are asked in decreasing order of
    ``s (f - g)_j`` at the input ``hint`` (float64; e.g. slth-check's witness: its worst
    entry first), else of their interval bound."""
    core = require_marabou()
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise ValueError(f"timeout: expected a positive integer of seconds, got {timeout!r}")
    if not np.isfinite(threshold):
        raise ValueError(f"threshold: expected a finite number, got {threshold!r}")
    t0 = time.perf_counter()
    q, ids, y = network_query(target, pruned, D, max_pool)
    key = [(q.bounds[int(v)][1], -q.bounds[int(v)][0]) for v in y] if hint is None else \
        [(e, -e) for e in (target.forward(hint) - pruned.forward(hint)).ravel()]
    cases = sorted(((k[0 if s > 0 else 1], int(v), s) for v, k in zip(y, key)
                    for s in (1, -1)), reverse=True)
    codes, vals = ask_killable(core, q, [(v, s) for _, v, s in cases], float(threshold),
                               timeout, [int(u) for u in ids.ravel()])
    if codes and codes[-1] == "sat":
        X = np.clip([vals[int(u)] for u in ids.ravel()], 0.0, 1.0).reshape(ids.shape)
        return MarabouAnswer("sat", threshold, time.perf_counter() - t0, X,
                             exact_error(target, pruned, X), "sat", len(codes))
    seconds = time.perf_counter() - t0
    if len(codes) == len(cases) and all(c == "unsat" for c in codes):
        return MarabouAnswer("unsat", threshold, seconds, raw="unsat", queries=len(codes))
    raw = next((c for c in codes if c != "unsat"), "TIMEOUT")
    return MarabouAnswer("unknown", threshold, seconds, raw=raw, queries=len(codes))


@dataclass
class CrossCheck:
    """Both of :func:`cross_check`'s queries and whether they agree with the bracket."""

    lower: Fraction
    upper: Fraction
    below: MarabouAnswer
    above: MarabouAnswer
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.problems


def cross_check(target: TargetCNN, pruned: PrunedCNN, D: int, lower: Any, upper: Any, *,
                margin: float = 0.01, timeout: int = 120, max_pool: str = "relu",
                witness: np.ndarray | None = None) -> CrossCheck:
    """Marabou against slth-check's bracket ``[lower, upper]`` (module docs): SAT at
    ``(1 - margin) lower`` with a counterexample whose exact error reaches that threshold
    (up to :data:`REPLAY_TOLERANCE`) and does not exceed ``upper``, and UNSAT at
    ``(1 + margin) upper``.  A timeout is a problem ("unknown"), never agreement.
    ``witness`` (the input that attains ``lower``) orders the first question's entries
    (:func:`marabou_exceeds`'s ``hint``); Marabou still searches the whole box."""
    lo, hi = Fraction(lower), Fraction(upper)
    if not 0 < margin < 1 or lo > hi:
        raise ValueError(f"margin, lower, upper: expected 0 < margin < 1 and lower <= upper, "
                         f"got {margin!r}, {float(lo)!r}, {float(hi)!r}")
    below, above = (marabou_exceeds(target, pruned, D, t, timeout=timeout, max_pool=max_pool,
                                    hint=h)
                    for t, h in ((float(lo) * (1 - margin), witness),
                                 (float(hi) * (1 + margin), None)))
    out = CrossCheck(lo, hi, below, above)
    if below.replayed is None:  # not "sat" (only a sat answer carries a replay)
        out.problems.append(f"Marabou answered {below.raw!r} at {below.threshold:.6g} "
                            f"= (1 - {margin}) lower; expected sat")
    else:
        if below.replayed < Fraction(below.threshold) - Fraction(REPLAY_TOLERANCE):
            out.problems.append(f"Marabou's counterexample replays exactly to "
                                f"{float(below.replayed):.9g} < {below.threshold:.9g}")
        if below.replayed > hi:
            out.problems.append(f"Marabou's counterexample replays exactly to "
                                f"{float(below.replayed):.17g} > upper {float(hi):.17g}")
    if above.status != "unsat":
        out.problems.append(f"Marabou answered {above.raw!r} at {above.threshold:.6g} "
                            f"= (1 + {margin}) upper; expected unsat")
    return out
