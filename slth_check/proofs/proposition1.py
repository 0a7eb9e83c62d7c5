"""Proposition 1 (Appendix A) for all sizes: ``||K*X||_max <= ||K||_1 ||X||_max``.

For every kernel size d, input size D, channels c0, c1, every padding of
:mod:`slth_check.conv` (paper, same, valid, full: the crop offset ``s`` of
the full convolution, ``0 <= s <= d - 1``) and every stride.  Output entry
``(o_i, o_j, l)`` of :func:`slth_check.conv.conv2d` is ``F[s + stride*o]`` of
the full convolution ``F[p] = sum_a K[a] X[p - a]`` (0-based), so kernel index
``(a, b, k)`` meets input index ``(s + stride*o_i - a, s + stride*o_j - b, k)``
(:func:`input_index`), and the entry is a finite sum of ``K_t X_t`` over the
kernel entries ``t`` of output channel ``l`` whose input index is inside the
input (zero padding drops the others).

Obligations (each with its negative twin):

``prop1.crop``    every padding's offset lies in ``[0, d - 1]`` (LIA with div);
``prop1.a``       the kernel-to-input index map of one output entry is injective
                  (NIA: symbolic d, D, stride, offset, output position);
``prop1.b``       the scalar step ``|s + a x| <= S + |a| m`` from ``|s| <= S``,
                  ``|x| <= m`` (NRA);
``prop1.base``    the empty sums (base case of the inductions);
``prop1.c.step``  the induction step over the summands of one entry (UFNRA);
``prop1.d.step``  a sub-multiset of multiplicity <= 1 has a smaller 1-norm
                  (the window's entries within ``K_l``, ``K_l``'s within ``K``);
``prop1.e``       composition ``|y| <= W m, W <= ||K_l||_1 <= ||K||_1`` gives the
                  bound (its ``factor`` is the statement's constant, 1).
"""

from __future__ import annotations

from fractions import Fraction

import z3

from slth_check.proofs.core import Abs, ChainStep, Goal, MetaStep, Obligation, Proof, Seq

NAME = "proposition1"

#: The crop offset ``s`` of each padding mode as a function of the kernel size d, as in
#: :func:`slth_check.conv.crop_window` (a test checks this table against the code).
OFFSETS = {
    "paper": lambda d: 0,
    "same": lambda d: (d - 1) / 2,  # integer division on z3 Ints and, via //, Python ints
    "valid": lambda d: d - 1,
    "full": lambda d: 0,
    "same_upper": lambda d: d / 2,
}


def offset_int(padding: str, d: int) -> int:
    """The crop offset of ``padding`` for a Python int ``d`` (mirror of :data:`OFFSETS`)."""
    return {"paper": 0, "same": (d - 1) // 2, "valid": d - 1, "full": 0,
            "same_upper": d // 2}[padding]


def input_index(s, stride, o_i, o_j, a, b, k, *, repeat: bool = False):
    """Input index met by kernel index ``(a, b, k)`` at output ``(o_i, o_j)`` (0-based).

    Works on Python ints and on Z3 terms.  ``repeat=True`` is the negative
    twin's wrong map (the row index ``a`` used for the column too).
    """
    return (s + stride * o_i - a, s + stride * o_j - (a if repeat else b), k)


def crop_goal(*, valid_offset_shift: int = 0) -> Goal:
    """Proposition 1, padding: every mode's offset lies in ``[0, d - 1]`` for all d >= 1.

    ``valid_offset_shift`` moves the 'valid' offset (the twin uses 1: offset d).
    """
    d = z3.Int("d")
    offs = [OFFSETS[p](d) + (valid_offset_shift if p == "valid" else 0) for p in OFFSETS]
    return Goal([d >= 1], z3.And(*[z3.And(0 <= s, s <= d - 1) for s in offs]))


def injective_goal(*, repeat: bool = False) -> Goal:
    """Proposition 1 (a): for a fixed output entry, kernel index -> input index is injective.

    Symbolic d, D, c0, stride, crop offset ``0 <= s <= d - 1`` and output
    position; two kernel indices of the window with the same in-range input
    index are equal.
    """
    d, D, c0, stride, s, oi, oj = z3.Ints("d D c0 stride s o_i o_j")
    a, b, k, a2, b2, k2 = z3.Ints("a b k a2 b2 k2")
    hyp = [d >= 1, D >= 1, c0 >= 1, stride >= 1, 0 <= s, s <= d - 1, oi >= 0, oj >= 0]
    for i in (a, b, a2, b2):
        hyp += [0 <= i, i <= d - 1]
    hyp += [0 <= k, k <= c0 - 1, 0 <= k2, k2 <= c0 - 1]
    u = input_index(s, stride, oi, oj, a, b, k, repeat=repeat)
    v = input_index(s, stride, oi, oj, a2, b2, k2, repeat=repeat)
    hyp += [0 <= u[0], u[0] <= D - 1, 0 <= u[1], u[1] <= D - 1]  # an in-range term
    hyp += [u[i] == v[i] for i in range(3)]
    return Goal(hyp, z3.And(a == a2, b == b2, k == k2))


def scalar_step_goal(*, factor: Fraction | int = 1, assume_bounded_x: bool = True) -> Goal:
    """Proposition 1 (b): ``|s| <= S, |x| <= m  =>  |s + a x| <= S + factor |a| m``."""
    s, S, a, x, m = z3.Reals("s S a x m")
    hyp = [Abs(s) <= S]
    if assume_bounded_x:
        hyp.append(Abs(x) <= m)
    return Goal(hyp, Abs(s + a * x) <= S + z3.RealVal(factor) * Abs(a) * m)


def base_goal(*, strict: bool = False) -> Goal:
    """Proposition 1, base case: the empty sums ``0 <= 0 * m`` and ``0 <= 0``."""
    ps, WS, AS = Seq("ps"), Seq("WS"), Seq("AS")
    m = z3.Real("m")
    hyp = [ps(0) == 0, WS(0) == 0, AS(0) == 0, m >= 0]
    if strict:
        return Goal(hyp, z3.And(Abs(ps(0)) < WS(0) * m, WS(0) <= AS(0)))
    return Goal(hyp, z3.And(Abs(ps(0)) <= WS(0) * m, WS(0) <= AS(0)))


def _multiplicity(w: z3.ArithRef, max_multiplicity: int) -> z3.BoolRef:
    return z3.Or(*[w == i for i in range(max_multiplicity + 1)])


def sum_step_goal(*, assume_bounded_x: bool = True) -> Goal:
    """Proposition 1 (c), induction step over the summands of one output entry.

    ``ps(n) = sum_{t<=n} w_t K_t X_t`` and ``WS(n) = sum_{t<=n} w_t |K_t|`` with
    ``w_t in {0, 1}`` (1 iff the input index of kernel entry t is in range):
    ``|ps(n)| <= WS(n) m  =>  |ps(n+1)| <= WS(n+1) m`` when ``|X_{n+1}| <= m``.
    """
    ps, WS, w, K, X = Seq("ps"), Seq("WS"), Seq("w"), Seq("K"), Seq("X")
    n = z3.Int("n")
    m = z3.Real("m")
    hyp = [n >= 0, m >= 0, Abs(ps(n)) <= WS(n) * m,
           ps(n + 1) == ps(n) + w(n + 1) * K(n + 1) * X(n + 1),
           WS(n + 1) == WS(n) + w(n + 1) * Abs(K(n + 1)),
           _multiplicity(w(n + 1), 1)]
    if assume_bounded_x:
        hyp.append(Abs(X(n + 1)) <= m)
    return Goal(hyp, Abs(ps(n + 1)) <= WS(n + 1) * m)


def subset_step_goal(*, max_multiplicity: int = 1) -> Goal:
    """Proposition 1 (d), induction step: a sub-multiset of multiplicity <= 1 has smaller 1-norm.

    ``WS(n) = sum_{t<=n} w_t |K_t|``, ``AS(n) = sum_{t<=n} |K_t|``: ``WS(n) <= AS(n)``
    implies ``WS(n+1) <= AS(n+1)``.  Multiplicity at most 1 is what the
    injectivity of (a) gives; the twin allows 2 (an index map repeating an entry).
    """
    WS, AS, w, K = Seq("WS"), Seq("AS"), Seq("w"), Seq("K")
    n = z3.Int("n")
    hyp = [n >= 0, WS(n) <= AS(n),
           WS(n + 1) == WS(n) + w(n + 1) * Abs(K(n + 1)),
           AS(n + 1) == AS(n) + Abs(K(n + 1)),
           _multiplicity(w(n + 1), max_multiplicity)]
    return Goal(hyp, WS(n + 1) <= AS(n + 1))


def compose_goal(*, factor: Fraction | int = 1) -> Goal:
    """Proposition 1 (e): ``|y| <= W m``, ``W <= ||K_l||_1 <= ||K||_1`` give ``|y| <= ||K||_1 m``.

    ``factor`` is the constant of the statement (1); a mutant with 0.99 is violated.
    """
    y, W, Kl, Kn, m = z3.Reals("y W K_l_norm K_norm m")
    hyp = [m >= 0, Abs(y) <= W * m, W <= Kl, Kl <= Kn]
    return Goal(hyp, Abs(y) <= z3.RealVal(factor) * Kn * m)


OBLIGATIONS = (
    Obligation("prop1.crop", NAME,
               "for all d >= 1: the crop offsets of paper (0), same ((d-1) div 2), "
               "valid (d-1), full (0), same_upper (d div 2) lie in [0, d-1]", "LIA",
               crop_goal,
               {}, {"valid_offset_shift": 1}, "twin: 'valid' offset d (off by one)"),
    Obligation("prop1.a", NAME,
               "for all d, D, c0, stride >= 1, 0 <= s <= d-1, output (o_i, o_j): "
               "(a,b,k) -> (s + stride o_i - a, s + stride o_j - b, k) is injective on the window",
               "NIA", injective_goal, {}, {"repeat": True},
               "twin: the map (s + stride o_i - a, s + stride o_j - a, k) repeats entries"),
    Obligation("prop1.b", NAME,
               "|s| <= S, |x| <= m  =>  |s + a x| <= S + |a| m", "NRA", scalar_step_goal,
               {}, {"factor": Fraction(99, 100)}, "twin: S + 0.99 |a| m"),
    Obligation("prop1.base", NAME,
               "empty sums: |0| <= 0 m (m >= 0) and 0 <= 0", "UFNRA", base_goal,
               {}, {"strict": True}, "twin: |0| < 0 m"),
    Obligation("prop1.c.step", NAME,
               "|ps(n)| <= WS(n) m, ps(n+1) = ps(n) + w K X, WS(n+1) = WS(n) + w|K|, "
               "w in {0,1}, |X| <= m  =>  |ps(n+1)| <= WS(n+1) m", "UFNRA", sum_step_goal,
               {}, {"assume_bounded_x": False}, "twin: without |X_{n+1}| <= m"),
    Obligation("prop1.d.step", NAME,
               "WS(n) <= AS(n), WS(n+1) = WS(n) + w|K|, AS(n+1) = AS(n) + |K|, w in {0,1}  "
               "=>  WS(n+1) <= AS(n+1)", "UFNRA", subset_step_goal,
               {}, {"max_multiplicity": 2},
               "twin: w in {0,1,2} (an index map that repeats an entry)"),
    Obligation("prop1.e", NAME,
               "m >= 0, |y| <= W m, W <= ||K_l||_1 <= ||K||_1  =>  |y| <= ||K||_1 m",
               "NRA", compose_goal, {}, {"factor": Fraction(99, 100)},
               "twin: |y| <= 0.99 ||K||_1 m"),
)

META_STEPS = (
    MetaStep("prop1.entry-as-sum",
             "for every padding (crop offset s) and stride, output entry (o_i, o_j, l) of "
             "Definition 1 is sum_{t=1..N} w_t K_t X_t, t enumerating the N = d*d*c0 kernel "
             "entries of output channel l, X_t the input at the index of prop1.a, "
             "w_t = 1 if that index is inside the input and 0 otherwise (zero padding); "
             "|X_t| <= ||X||_max",
             "unfolding Definition 1 / slth_check.conv (full convolution F[p] = sum_a K[a] "
             "X[p - a], output F[s + stride o]); injectivity (prop1.a) makes each input "
             "entry meet one kernel entry, so every multiplicity w_t is 0 or 1",
             ("prop1.crop", "prop1.a")),
    MetaStep("induction-on-summands",
             "if P(0) and P(n) => P(n+1) for all n >= 0, then P(N) for every number N of "
             "summands",
             "induction on the natural numbers (Z3 proves base and step for a symbolic n; "
             "the sequences are uninterpreted functions Int -> Real, so any terms)",
             ("prop1.base", "prop1.c.step", "prop1.d.step")),
    MetaStep("max-over-entries",
             "||Y||_max <= B if |Y_e| <= B for every entry e",
             "definition of the maximum over a finite set"),
)

CHAIN = (
    ChainStep("each entry is sum_t w_t K_t X_t, w_t in {0,1}, |X_t| <= ||X||_max",
              ("prop1.crop", "prop1.a", "prop1.entry-as-sum")),
    ChainStep("|y| <= (sum_t w_t |K_t|) ||X||_max",
              ("prop1.b", "prop1.base", "prop1.c.step", "induction-on-summands")),
    ChainStep("sum_t w_t |K_t| <= ||K_l||_1 <= ||K||_1",
              ("prop1.base", "prop1.d.step", "induction-on-summands")),
    ChainStep("Proposition 1", ("prop1.e", "max-over-entries")),
)

PROOF = Proof(
    NAME, "Proposition 1",
    "||K*X||_max <= ||K||_1 ||X||_max for K in R^{d x d x c0 x c1}, X in R^{D x D x c0}",
    "all d, D, c0, c1 >= 1, every padding (paper, same, valid, full) and stride, all real "
    "K and X (the sharper max_l ||K_l||_1 bound on the way)",
    OBLIGATIONS, META_STEPS, CHAIN)
