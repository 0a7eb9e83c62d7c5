"""Lemma 1's identity (Eq. 1-2) for all sizes.

For ``X >= 0`` and kept entries ``U' = S ⊙ U⁺ >= 0`` (``U⁺ = max(0, U)``,
S a binary mask): ``V * σ(U' * X) = V * (U' * X)`` (Eq. 1) ``= L * X`` with
``L_{i,j,k,1} = sum_t V_{1,1,t,1} U'_{i,j,k,t}`` (Eq. 2), for every d, D, c
and n.

Every entry of ``U' * X`` is a finite sum ``h = sum_s u_s x_s`` with
``u_s >= 0`` and ``x_s >= 0`` (an input entry, or a zero of the padding), so
``h >= 0`` by induction on the summands and ``σ(h) = h``.  A ``1 x 1``
convolution is pointwise, so ``(V * H)_{ij} = sum_t V_t H_{ijt}``; pulling
``V_t`` into the inner sum, exchanging the two finite sums and factoring
``x_s`` out of the sum over t gives ``sum_s (sum_t V_t u_{s,t}) x_s``, the entry
of ``L * X`` (Eq. 2).

Obligations (each with its negative twin):

``lemma1.keep``         kept entries are >= 0 (prune the negatives, then mask);
``lemma1.base``         the empty sums;
``lemma1.pos.step``     ``h(n) >= 0, u >= 0, x >= 0 => h(n+1) >= 0`` (UFNRA);
``lemma1.relu``         ``z >= 0 => σ(z) = z``;
``lemma1.pointwise``    a 1 x 1 kernel meets the input index equal to the output index;
``lemma1.scale.step``   ``v h(n) = g(n) => v h(n+1) = g(n+1)``, ``g`` the sum of ``(v u) x``;
``lemma1.factor.step``  ``c(n) x = r(n) => c(n+1) x = r(n+1)``, ``r`` the sum of ``c_t x``;
``lemma1.linear.step``  step 4 (b): ``K * X - L * X = (K - L) * X``, entry by entry;
``lemma1.l1max.step``   step 4 (e): ``||x||_1 <= m ||x||_max``;
``lemma1.bound``        step 4 (c)-(f): per-entry errors ``< ε/(d²c)``, Proposition 1 and
                        ``||X||_max <= 1`` give an error ``< ε`` (NRA with Int d, c).

Step 4 of the proof (section 4.2): conditioning on the subset-sum event
(every ``|K_t - L_t| < ε' = ε/(d²c)``), Eq. 1, distributivity, Proposition 1,
``X in [0,1]`` and ``||x||_1 <= m ||x||_max`` give
``sup_X ||K * X - V * σ((U ⊙ S) * X)||_max < ε``.
"""

from __future__ import annotations

from fractions import Fraction

import z3

from slth_check.proofs.core import Abs, ChainStep, Goal, MetaStep, Obligation, Proof, Relu, Seq
from slth_check.proofs.proposition1 import input_index

NAME = "lemma1"


def keep_goal(*, prune_negatives: bool = True) -> Goal:
    """Lemma 1, Eq. 1: a kept entry ``S * max(0, U)`` with ``S in {0, 1}`` is ``>= 0``.

    ``prune_negatives=False`` (the twin) keeps ``S * U`` without pruning the negatives.
    """
    S, U = z3.Reals("S U")
    kept = S * (z3.If(U > 0, U, z3.RealVal(0)) if prune_negatives else U)
    return Goal([z3.Or(S == 0, S == 1)], kept >= 0)


def base_goal(*, strict: bool = False) -> Goal:
    """Lemma 1, base case: the empty sums are 0.

    So ``h(0) >= 0``, ``v h(0) = g(0)``, ``c(0) x = r(0)``, ``pK(0) - pL(0) = pD(0)``
    and ``A(0) <= 0 M``.
    """
    h, g, c, r = Seq("h"), Seq("g"), Seq("c"), Seq("r")
    pK, pL, pD, A = Seq("pK"), Seq("pL"), Seq("pD"), Seq("A")
    v, x, M = z3.Reals("v x M")
    hyp = [h(0) == 0, g(0) == 0, c(0) == 0, r(0) == 0, pK(0) == 0, pL(0) == 0, pD(0) == 0,
           A(0) == 0, M >= 0]
    first = h(0) > 0 if strict else h(0) >= 0
    return Goal(hyp, z3.And(first, v * h(0) == g(0), c(0) * x == r(0),
                            pK(0) - pL(0) == pD(0), A(0) <= 0 * M))


def positive_step_goal(*, assume_x_nonneg: bool = True, assume_u_nonneg: bool = True) -> Goal:
    """Lemma 1, Eq. 1, induction step: ``h(n) >= 0`` and a term ``u x`` with ``u, x >= 0``.

    ``h(n) = sum_{s<=n} u_s x_s`` is one entry of ``U' * X`` after n summands.
    Dropping ``X >= 0`` (``assume_x_nonneg=False``) or kept ``U >= 0`` makes it false.
    """
    h, u, x = Seq("h"), Seq("u"), Seq("x")
    n = z3.Int("n")
    hyp = [n >= 0, h(n) >= 0, h(n + 1) == h(n) + u(n + 1) * x(n + 1)]
    if assume_u_nonneg:
        hyp.append(u(n + 1) >= 0)
    if assume_x_nonneg:
        hyp.append(x(n + 1) >= 0)
    return Goal(hyp, h(n + 1) >= 0)


def relu_goal(*, assume_nonneg: bool = True) -> Goal:
    """Lemma 1, Eq. 1: ``z >= 0 => σ(z) = z`` (the ReLU is the identity on ``[0, inf)``)."""
    z = z3.Real("z")
    return Goal([z >= 0] if assume_nonneg else [], Relu(z) == z)


def pointwise_goal(*, kernel_size: int = 1) -> Goal:
    """Lemma 1, Eq. 2: with a ``1 x 1`` kernel (V) output index ``o`` meets input index ``o``.

    Stride 1, any padding (``0 <= s <= d - 1`` forces ``s = 0``); the twin
    uses a ``2 x 2`` kernel.
    """
    d, s, a, b, k, oi, oj = z3.Ints("d s a b k o_i o_j")
    hyp = [d == kernel_size, 0 <= s, s <= d - 1, 0 <= a, a <= d - 1, 0 <= b, b <= d - 1]
    u = input_index(s, 1, oi, oj, a, b, k)
    return Goal(hyp, z3.And(u[0] == oi, u[1] == oj, u[2] == k))


def scale_step_goal(*, scale_term: bool = True) -> Goal:
    """Lemma 1, Eq. 2, induction step: a scalar enters a finite sum, ``v sum u x = sum (v u) x``.

    ``h(n) = sum_{s<=n} u_s x_s``, ``g(n) = sum_{s<=n} (v u_s) x_s``; the twin
    forgets ``v`` in the new term.
    """
    h, g, u, x = Seq("h"), Seq("g"), Seq("u"), Seq("x")
    n = z3.Int("n")
    v = z3.Real("v")
    term = (v * u(n + 1)) * x(n + 1) if scale_term else u(n + 1) * x(n + 1)
    hyp = [n >= 0, v * h(n) == g(n), h(n + 1) == h(n) + u(n + 1) * x(n + 1),
           g(n + 1) == g(n) + term]
    return Goal(hyp, v * h(n + 1) == g(n + 1))


def factor_step_goal(*, constant_factor: bool = True) -> Goal:
    """Lemma 1, Eq. 2, induction step: a common factor leaves a finite sum, ``sum c x = (sum c) x``.

    ``c(n) = sum_{t<=n} c_t``, ``r(n) = sum_{t<=n} c_t x``.  The twin pulls out
    a factor that depends on the summation index (``x_t`` instead of ``x``).
    """
    c, r, ct, xs = Seq("c"), Seq("r"), Seq("c_t"), Seq("x_t")
    n = z3.Int("n")
    x = z3.Real("x")
    factor = x if constant_factor else xs(n + 1)
    hyp = [n >= 0, c(n) * x == r(n), c(n + 1) == c(n) + ct(n + 1),
           r(n + 1) == r(n) + ct(n + 1) * factor]
    return Goal(hyp, c(n + 1) * x == r(n + 1))


def factor_times(factor: Fraction | int, term: z3.ArithRef) -> z3.ArithRef:
    """``factor * term`` (the factor 1 left out, so the obligation reads as stated)."""
    return term if factor == 1 else z3.RealVal(factor) * term


def linear_step_goal(*, sign: int = -1) -> Goal:
    """Lemma 1, step 4 (b), induction step: ``K * X - L * X = (K - L) * X`` entrywise.

    ``pK(n)``, ``pL(n)``, ``pD(n)`` are the partial sums of ``K_t x_t``,
    ``L_t x_t`` and ``(K_t - L_t) x_t`` of one output entry (the same input
    entries ``x_t``: both are convolutions of X).  The twin adds ``(K + L) x``.
    """
    pK, pL, pD, K, L, x = Seq("pK"), Seq("pL"), Seq("pD"), Seq("K"), Seq("L"), Seq("x")
    n = z3.Int("n")
    hyp = [n >= 0, pK(n) - pL(n) == pD(n), pK(n + 1) == pK(n) + K(n + 1) * x(n + 1),
           pL(n + 1) == pL(n) + L(n + 1) * x(n + 1),
           pD(n + 1) == pD(n) + (K(n + 1) + sign * L(n + 1)) * x(n + 1)]
    return Goal(hyp, pK(n + 1) - pL(n + 1) == pD(n + 1))


def l1_max_step_goal(*, factor: Fraction | int = 1) -> Goal:
    """Lemma 1, step 4 (e), induction step: ``||x||_1 <= m ||x||_max`` for x with m entries.

    ``A(n) = sum_{t<=n} |x_t|``: ``A(n) <= n M`` and ``|x_{n+1}| <= M`` give
    ``A(n+1) <= (n+1) M``.  The twin claims ``0.99 (n+1) M``.
    """
    A, x = Seq("A"), Seq("x")
    n = z3.Int("n")
    M = z3.Real("M")
    hyp = [n >= 0, M >= 0, A(n) <= factor_times(factor, z3.ToReal(n) * M),
           A(n + 1) == A(n) + Abs(x(n + 1)), Abs(x(n + 1)) <= M]
    return Goal(hyp, A(n + 1) <= factor_times(factor, z3.ToReal(n + 1) * M))


def bound_goal(*, entries: str = "d*d*c") -> Goal:
    """Lemma 1, step 4 (c)-(f): per-entry errors ``< ε' = ε/(d²c)`` give an error ``< ε``.

    For every ``d, c >= 1`` and ``ε > 0``: ``||K - L||_max < ε'`` (f, the
    subset-sum event for each of the ``d²c`` entries), ``||K - L||_1 <= d²c
    ||K - L||_max`` (e), ``err <= ||K - L||_1 ||X||_max`` (Proposition 1, c),
    ``||X||_max <= 1`` (d) imply ``err < ε``.  ``entries="d*c"`` (the twin)
    spends ``ε/(d c)`` per entry.
    """
    d, c = z3.Ints("d c")
    eps, ep, Dmax, Dl1, err, Xm = z3.Reals("eps eps1 KL_max KL_l1 err X_max")
    N = z3.ToReal(d * d * c)
    per = z3.ToReal(d * d * c) if entries == "d*d*c" else z3.ToReal(d * c)
    hyp = [d >= 1, c >= 1, eps > 0, ep == eps / per, 0 <= Dmax, Dmax < ep, Dl1 <= N * Dmax,
           0 <= err, err <= Dl1 * Xm, 0 <= Xm, Xm <= 1]
    return Goal(hyp, err < eps)


OBLIGATIONS = (
    Obligation("lemma1.keep", NAME, "S in {0,1}  =>  S max(0, U) >= 0", "NRA", keep_goal,
               {}, {"prune_negatives": False}, "twin: S U (negatives not pruned)"),
    Obligation("lemma1.base", NAME, "empty sums: h(0) = g(0) = c(0) = r(0) = 0  =>  "
               "h(0) >= 0, v h(0) = g(0), c(0) x = r(0)", "UFNRA", base_goal,
               {}, {"strict": True}, "twin: h(0) > 0"),
    Obligation("lemma1.pos.step", NAME, "h(n) >= 0, h(n+1) = h(n) + u x, u >= 0, x >= 0  =>  "
               "h(n+1) >= 0", "UFNRA", positive_step_goal,
               {}, {"assume_x_nonneg": False}, "twin: without X >= 0"),
    Obligation("lemma1.relu", NAME, "z >= 0  =>  σ(z) = z", "LRA", relu_goal,
               {}, {"assume_nonneg": False}, "twin: without z >= 0"),
    Obligation("lemma1.pointwise", NAME, "d = 1, 0 <= s, a, b <= d-1, stride 1  =>  "
               "input index (s + o_i - a, s + o_j - b, k) = (o_i, o_j, k)", "LIA",
               pointwise_goal, {}, {"kernel_size": 2}, "twin: a 2 x 2 kernel"),
    Obligation("lemma1.scale.step", NAME, "v h(n) = g(n), h(n+1) = h(n) + u x, "
               "g(n+1) = g(n) + (v u) x  =>  v h(n+1) = g(n+1)", "UFNRA", scale_step_goal,
               {}, {"scale_term": False}, "twin: g(n+1) = g(n) + u x (v forgotten)"),
    Obligation("lemma1.factor.step", NAME, "c(n) x = r(n), c(n+1) = c(n) + c_t, "
               "r(n+1) = r(n) + c_t x  =>  c(n+1) x = r(n+1)", "UFNRA", factor_step_goal,
               {}, {"constant_factor": False},
               "twin: the factor depends on t (r(n+1) = r(n) + c_t x_t)"),
    Obligation("lemma1.linear.step", NAME, "pK(n) - pL(n) = pD(n), pK(n+1) = pK(n) + K x, "
               "pL(n+1) = pL(n) + L x, pD(n+1) = pD(n) + (K - L) x  =>  "
               "pK(n+1) - pL(n+1) = pD(n+1)", "UFNRA", linear_step_goal,
               {}, {"sign": 1}, "twin: pD(n+1) = pD(n) + (K + L) x"),
    Obligation("lemma1.l1max.step", NAME, "A(n) <= n M, A(n+1) = A(n) + |x|, |x| <= M  =>  "
               "A(n+1) <= (n+1) M", "UFNRA", l1_max_step_goal,
               {}, {"factor": Fraction(99, 100)}, "twin: A(n+1) <= 0.99 (n+1) M"),
    Obligation("lemma1.bound", NAME, "d, c >= 1, ε' = ε/(d²c), ||K-L||_max < ε', "
               "||K-L||_1 <= d²c ||K-L||_max, err <= ||K-L||_1 ||X||_max, ||X||_max <= 1  =>  "
               "err < ε", "NRA", bound_goal, {}, {"entries": "d*c"},
               "twin: ε' = ε/(d c)"),
)

META_STEPS = (
    MetaStep("lemma1.entry-as-sum",
             "every entry of U' * X (Definition 1, any size, zero padding) is "
             "sum_{s=1..N} u_s x_s over the N = d*d*c kernel entries of its channel, x_s an "
             "input entry or a padding zero (so x_s >= 0 when X >= 0); every entry of a 1 x 1 "
             "convolution V * H is sum_{t=1..n} V_t H_t at the same position",
             "unfolding Definition 1 (as for prop1.entry-as-sum; lemma1.pointwise gives the "
             "1 x 1 index map)", ("prop1.a", "lemma1.pointwise")),
    MetaStep("lemma1.induction",
             "if P(0) and P(n) => P(n+1) for all n >= 0, then P(N) for every number N of "
             "summands", "induction on the natural numbers (as induction-on-summands)",
             ("lemma1.base", "lemma1.pos.step", "lemma1.scale.step", "lemma1.factor.step",
              "lemma1.linear.step", "lemma1.l1max.step")),
    MetaStep("exchange-of-finite-sums",
             "sum_{t=1..n} sum_{s=1..N} a_{t,s} = sum_{s=1..N} sum_{t=1..n} a_{t,s}",
             "associativity and commutativity of + (induction on n and N): Fubini for "
             "finite sums"),
)

CHAIN = (
    ChainStep("kept U' = S ⊙ U⁺ >= 0", ("lemma1.keep",)),
    ChainStep("every entry of U' * X is >= 0 when X >= 0",
              ("lemma1.entry-as-sum", "lemma1.base", "lemma1.pos.step", "lemma1.induction")),
    ChainStep("Eq. 1: V * σ(U' * X) = V * (U' * X)", ("lemma1.relu",)),
    ChainStep("Eq. 2: V * (U' * X) = L * X, L = sum_t V_t U'_{:,:,:,t}",
              ("lemma1.entry-as-sum", "lemma1.base", "lemma1.scale.step",
               "exchange-of-finite-sums", "lemma1.factor.step", "lemma1.induction")),
    ChainStep("Lemma 1 (Eq. 1-2)", ("Eq. 1: V * σ(U' * X) = V * (U' * X)",
                                    "Eq. 2: V * (U' * X) = L * X, L = sum_t V_t U'_{:,:,:,t}")),
    ChainStep("step 4 (b): K * X - L * X = (K - L) * X",
              ("lemma1.entry-as-sum", "lemma1.base", "lemma1.linear.step", "lemma1.induction")),
    ChainStep("step 4 (e): ||K - L||_1 <= d²c ||K - L||_max",
              ("lemma1.base", "lemma1.l1max.step", "lemma1.induction", "max-over-entries")),
    ChainStep("Lemma 1, step 4: every |K_t - L_t| < ε/(d²c) gives "
              "sup_{X in [0,1]} ||K * X - V * σ(U' * X)||_max < ε",
              ("Lemma 1 (Eq. 1-2)", "step 4 (b): K * X - L * X = (K - L) * X",
               "Proposition 1", "step 4 (e): ||K - L||_1 <= d²c ||K - L||_max",
               "max-over-entries", "lemma1.bound")),
)

PROOF = Proof(
    NAME, "Lemma 1 (Eq. 1-2, step 4)",
    "for X >= 0 and kept U' = S ⊙ max(0, U): V * σ(U' * X) = (V U') * X, i.e. L * X with "
    "L_{i,j,k} = sum_t V_t U'_{i,j,k,t} (Eq. 1-2); and if every |K_t - L_t| < ε/(d²c) "
    "then sup_{X in [0,1]^{D x D x c}} ||K * X - V * σ(U' * X)||_max < ε (step 4)",
    "all d, D, c, n >= 1, every padding, all real V, U and K, all X >= 0 (the deterministic "
    "part of the proof; the subset-sum event, its probability and the constant C are not "
    "part of it)",
    OBLIGATIONS, META_STEPS, CHAIN)
