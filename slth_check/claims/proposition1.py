"""Proposition 1 (Appendix A): ``||K*X||_max <= ||K||_1 * ||X||_max``.

Checked three ways: exactly on instances (no tolerance), by construction of
the input attaining the sharper bound ``max_l ||K[:,:,:,l]||_1 * ||X||_max``
(tightness), and proved for all real K and X of small fixed sizes with Z3.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from slth_check.arithmetic import to_fraction
from slth_check.claims.base import Claim, Outcome, Verdict, as_number, compare
from slth_check.conv import Padding, conv2d_exact, l1_exact, max_norm_exact
from slth_check.proofs import outcome_fields


@dataclass
class Prop1Instance:
    K: np.ndarray
    X: np.ndarray
    padding: Padding = "paper"


def sharper_bound(K: np.ndarray, X: np.ndarray) -> Fraction:
    """``max_l ||K[:,:,:,l]||_1 * ||X||_max`` exactly (the proof's sharper bound)."""
    Kf = to_fraction(K)
    per = [sum((abs(v) for v in Kf[..., l].ravel()), start=Fraction(0))
           for l in range(K.shape[3])]
    return max(per) * max_norm_exact(X)


def tight_input(K: np.ndarray, D: int, M: float = 1.0) -> tuple[np.ndarray, tuple[int, int, int]]:
    """An input X (D, D, c0) with ``||X||_max = M`` attaining the sharper bound.

    With ``l* = argmax_l ||K_l||_1`` and the output position ``p = d - 1``
    (0-based, window fully inside the input for paper padding), set
    ``X[p - a, p - b, k] = M * sign(K[a, b, k, l*])``.  Then
    ``(K*X)[p, p, l*] = M ||K_{l*}||_1``.  Requires ``D >= d``.
    Returns X and the attaining output index.
    """
    d, _, c0, c1 = K.shape
    if D < d:
        raise ValueError(f"D: expected D >= d = {d}, got {D}")
    Kf = to_fraction(K)  # exact column norms: float sums can tie where exact ones do not
    norms = [sum((abs(v) for v in Kf[..., l].ravel()), start=Fraction(0)) for l in range(c1)]
    lstar = max(range(c1), key=lambda l: norms[l])
    X = np.zeros((D, D, c0))
    p = d - 1
    X[p::-1, p::-1, :][:d, :d] = M * np.sign(K[:, :, :, lstar])
    X[0, 0, 0] = X[0, 0, 0] if np.any(X) else M  # keep ||X||_max = M for K = 0
    return X, (p, p, lstar)


class Proposition1(Claim):
    id = "proposition1"
    statement = ("Proposition 1: for K in R^{d x d x c0 x c1} and X in R^{D x D x c0}, "
                 "||K*X||_max <= ||K||_1 ||X||_max (exact arithmetic, no tolerance).")
    hypotheses_text = "any real K and X (no sign or norm restriction)"

    def check(self, instance: Prop1Instance) -> Outcome:
        Y = conv2d_exact(instance.K, instance.X, padding=instance.padding)
        observed = max((abs(v) for v in Y.ravel()), default=Fraction(0))
        bound = l1_exact(instance.K) * max_norm_exact(instance.X)
        return compare(self.id, observed, bound, method="exact",
                       witness={"K": instance.K, "X": instance.X},
                       extra={"sharper_bound": as_number(sharper_bound(instance.K, instance.X)),
                              "padding": instance.padding})

    def replay(self, arrays: dict, meta: dict) -> Outcome:
        """Re-check a saved witness (K, X) exactly."""
        return self.check(Prop1Instance(arrays["K"], arrays["X"], meta.get("padding", "paper")))

    def tightness(self, K: np.ndarray, D: int) -> Outcome:
        """Build the attaining input; ``observed`` equals the sharper bound exactly."""
        X, idx = tight_input(K, D)
        Y = conv2d_exact(K, X)
        observed = abs(Y[idx])
        sharp = sharper_bound(K, X)
        return compare(self.id, observed, l1_exact(K) * max_norm_exact(X), method="exact",
                       witness={"K": K, "X": X}, detail="tightness input",
                       extra={"attains_sharper_bound": observed == sharp})

    def instances(self, rng: np.random.Generator, profile: str) -> Iterator[Any]:
        count = {"ci": 30, "dev": 100, "thorough": 500}.get(profile, 30)
        for _ in range(count):
            d = int(rng.integers(1, 4))
            D = int(rng.integers(d, 7))
            c0, c1 = (int(v) for v in rng.integers(1, 4, size=2))
            K = rng.uniform(-1, 1, size=(d, d, c0, c1)) * 10.0 ** rng.integers(-2, 3)
            X = rng.uniform(-1, 1, size=(D, D, c0)) * 10.0 ** rng.integers(-2, 3)
            if rng.random() < 0.5:  # include the tightness construction
                X, _ = tight_input(K, D, float(np.abs(X).max()))
            yield Prop1Instance(K, X)

    def extra_outcomes(self, rng: np.random.Generator, profile: str) -> Iterator[Outcome]:
        yield Outcome(self.id, **outcome_fields(self.id))  # proved for all sizes (proofs/)
        sizes = [(2, 3), (3, 3)] if profile != "thorough" else [(2, 3), (3, 3), (2, 4)]
        for d, D in sizes:
            yield prove_z3(d, D, time_limit=60.0)


def _z3_products(expr):
    """The list of (factor, factor) products of a sum of bilinear terms."""
    import z3

    expr = z3.simplify(expr, som=True)
    if z3.is_add(expr):
        terms = expr.children()
    elif z3.is_rational_value(expr) and expr.as_fraction() == 0:
        terms = []
    else:
        terms = [expr]
    out = []
    for t in terms:
        if not (z3.is_mul(t) and t.num_args() == 2):
            raise ValueError(f"unexpected term {t} in a convolution entry")
        out.append(tuple(t.children()))
    return out


class _Budget:
    """One time budget (seconds) shared by every Z3 query of a proof."""

    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    def unsat(self, solver: Any) -> str:
        """``unsat``, ``sat``, ``unknown (reason)`` or ``timeout`` (budget spent)."""
        import z3

        ms = int((self.end - time.perf_counter()) * 1000)
        if ms <= 0:
            return "timeout"
        solver.set("timeout", ms)
        r = solver.check()
        return "unsat" if r == z3.unsat else ("sat" if r == z3.sat else
                                              f"unknown ({solver.reason_unknown()})")


def _symbolic_arrays(d: int, D: int, c0: int, c1: int) -> tuple[np.ndarray, np.ndarray]:
    """Z3 reals ``K_a_b_k_l`` (d, d, c0, c1) and ``X_i_j_k`` (D, D, c0)."""
    import z3

    K = np.array([[[[z3.Real(f"K_{a_}_{b}_{k_}_{l}") for l in range(c1)] for k_ in range(c0)]
                   for b in range(d)] for a_ in range(d)], dtype=object)
    X = np.array([[[z3.Real(f"X_{i}_{j}_{k_}") for k_ in range(c0)] for j in range(D)]
                  for i in range(D)], dtype=object)
    return K, X


def _entry_query(y_expr: Any, Q: dict[str, Any]) -> Any:
    """Lemma 2 at one output entry: its products abstracted to ``P`` with ``|P| <= Q``
    (lemma 1 instances), ``Q >= 0``, and the negation ``|sum P| > sum Q`` (a QF_LRA solver
    to be found unsat)."""
    import z3

    s = z3.SolverFor("QF_LRA")
    P = []
    for j, (f1, f2) in enumerate(_z3_products(y_expr)):
        kname = str(f1) if str(f1).startswith("K_") else str(f2)
        p = z3.Real(f"P_{j}")
        P.append(p)
        s.add(p <= Q[kname], -p <= Q[kname])  # lemma 1 instance
    for q in Q.values():
        s.add(q >= 0)  # lemma 1 with k = 0 gives 0 <= a m
    rhs = z3.Sum(list(Q.values()))  # = (sum A) M by lemma 3
    y = z3.Sum(P) if P else z3.RealVal(0)
    s.add(z3.Or(y > rhs, -y > rhs))
    return s


def prove_z3(d: int, D: int, c0: int = 1, c1: int = 1, *, padding: Padding = "paper",
             time_limit: float = 60.0) -> Outcome:
    """Prove Proposition 1 for all real K (d, d, c0, c1) and X (D, D, c0) with Z3.

    The negation is asked of Z3 for every output entry ``(i, j, l)``: real
    K, X, A, M with ``|X| <= M`` entrywise, ``A >= |K|`` entrywise (so
    ``sum A >= ||K||_1``) and ``|(K*X)_ij| > (sum A) M``.  Nonlinear real
    arithmetic alone times out from d = 3 on, so the proof is split into
    lemmas, each proved by Z3 (every ``unsat`` below is checked):

    1. scalar lemma (NRA): ``a >= |k|, |x| <= m  =>  |k x| <= a m``;
    2. per output entry (LRA): with every product ``K_t X_s`` of the entry
       (read off Definition 1 applied to symbolic arrays) abstracted to ``P``
       and every ``A_t M`` to ``Q``, ``|P| <= Q`` (lemma 1) and ``Q >= 0``
       imply ``|sum P| <= sum_t Q_t``;
    3. distributivity (NRA): ``sum_t A_t M = (sum_t A_t) M``.

    Lemmas 1 and 3 instantiated into 2 give the proposition.  Verdict holds
    only when every query is unsat within ``time_limit`` (seconds, in all);
    a timeout or ``unknown`` gives verdict unknown, never holds.
    """
    import z3

    from slth_check.conv import conv2d_generic

    t0 = time.perf_counter()
    unsat = _Budget(time_limit).unsat

    def finish(verdict: Verdict, detail: str) -> Outcome:
        return Outcome("proposition1", verdict, method="z3", detail=detail,
                       extra={"d": d, "D": D, "c0": c0, "c1": c1, "proof": True,
                              "seconds": time.perf_counter() - t0})

    # Lemma 1 (scalar, nonlinear).
    k, x, a, m = z3.Reals("k x a m")
    s = z3.SolverFor("QF_NRA")
    s.add(a >= k, a >= -k, x <= m, -x <= m, z3.Or(k * x > a * m, -k * x > a * m))
    r = unsat(s)
    if r != "unsat":
        return finish("unknown", f"lemma 1 (|k x| <= a m): {r}")

    K, X = _symbolic_arrays(d, D, c0, c1)
    A = {str(v): z3.Real("A" + str(v)[1:]) for v in K.ravel()}
    M = z3.Real("M")
    Y = conv2d_generic(K, X, padding, 1, zero=z3.RealVal(0))
    Q = {name: z3.Real("Q" + name[1:]) for name in A}
    # Lemma 3 (distributivity): sum_t A_t M == (sum_t A_t) M for every output channel set.
    s = z3.SolverFor("QF_NRA")
    s.add(z3.Sum([A[n] * M for n in A]) != z3.Sum(list(A.values())) * M)
    r = unsat(s)
    if r != "unsat":
        return finish("unknown", f"lemma 3 (distributivity): {r}")
    # Lemma 2 per output entry (linear once products are abstracted).
    for idx in np.ndindex(Y.shape):
        r = unsat(_entry_query(Y[idx], Q))
        if r != "unsat":
            return finish("unknown", f"lemma 2 at output {idx}: {r}")
    return finish("holds", f"proved for all real K ({d},{d},{c0},{c1}) and X ({D},{D},{c0}), "
                  f"padding {padding!r}, by three Z3-proved lemmas "
                  f"in {time.perf_counter() - t0:.2f} s")
