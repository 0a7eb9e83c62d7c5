"""Theorem 1's error recursion (Appendix B, Eq. 3-5) for every depth ℓ.

With ``q = ε/(2ℓ)``, ``r = 1 + q`` and ``P_i = r^{i-1}``, Appendix B shows, for
the activations ``X^i`` of the target f and ``X̃^i`` of the pruned g:

* ``||X̃^i|| <= P_i`` (from Eq. 4, the reverse triangle inequality and
  Proposition 1 with ``||K_i||_1 <= 1``);
* Eq. 5: ``||X^{i+1} - X̃^{i+1}|| <= ||X^i - X̃^i|| + P_i q``, unrolled to
  ``||X^i - X̃^i|| <= sum_{j<i} P_j q = P_i - 1``;
* ``||f(X) - g(X)|| <= r^ℓ - 1 <= e^{ε/2} - 1 < ε`` for ``0 < ε < 1``.

The depth is symbolic: ``ℓ`` an Int ``>= 1`` and the powers ``P_i`` an
uninterpreted sequence with ``P_{i+1} = r P_i`` (the induction on the depth
is a meta-step); Z3 has no ``exp``, so ``(1 + x/ℓ)^ℓ <= e^x`` and
``1 + y + y²/2 <= e^y <= 1 + y + y²`` on ``[0, 1]`` are named meta-steps and the
last obligation uses them as hypotheses on a real ``E = e^{ε/2}``.

Obligations (each with its negative twin):

``theorem1.lipschitz``    ``|σ(a) - σ(b)| <= |a - b|`` (Eq. 3 => Eq. 4; b = 0 gives |σ(y)| <= |y|);
``theorem1.homogeneous``  ``c >= 0 => σ(c y) = c σ(y)`` (Eq. 3 on [0,1] scales to X̃^i >= 0);
``theorem1.base``         the depth-1 invariant;
``theorem1.act.step``     ``||X̃^{i+1}|| <= P_{i+1}`` from ``||X̃^i|| <= P_i`` (NRA);
``theorem1.eq5``          Eq. 5 (NRA);
``theorem1.unroll.step``  the geometric sum: ``B_i = P_i - 1`` carries to ``i + 1`` (UFNRA);
``theorem1.final``        ``r^ℓ - 1 <= e^{ε/2} - 1 < ε`` for ``0 < ε < 1`` (NRA).
"""

from __future__ import annotations

from fractions import Fraction

import z3

from slth_check.proofs.core import Abs, ChainStep, Goal, MetaStep, Obligation, Proof, Relu, Seq

NAME = "theorem1"


def _budget(eps: z3.ArithRef, ell: z3.ArithRef, q: z3.ArithRef) -> list[z3.BoolRef]:
    """``0 < ε < 1``, an integer depth ``ℓ >= 1`` and the per-layer error ``q = ε/(2ℓ)``."""
    return [eps > 0, eps < 1, ell >= 1, q == eps / (2 * z3.ToReal(ell))]


def lipschitz_goal(*, factor: Fraction | int = 1) -> Goal:
    """Theorem 1, Eq. 3 => Eq. 4: the ReLU is 1-Lipschitz, ``|σ(a) - σ(b)| <= factor |a - b|``."""
    a, b = z3.Reals("a b")
    return Goal([], Abs(Relu(a) - Relu(b)) <= z3.RealVal(factor) * Abs(a - b))


def homogeneous_goal(*, assume_nonneg: bool = True) -> Goal:
    """Theorem 1, Eq. 3 at ``X̃^i``: ``c >= 0 => σ(c y) = c σ(y)`` (positive homogeneity).

    With ``c = ||X̃^i||`` and ``X̃^i / c in [0, 1]`` (X̃^i >= 0 as a ReLU output),
    Eq. 3 for inputs in [0,1] gives the error ``<= q ||X̃^i||``.
    """
    c, y = z3.Reals("c y")
    return Goal([c >= 0] if assume_nonneg else [], Relu(c * y) == c * Relu(y))


def base_goal(*, strict: bool = False) -> Goal:
    """Theorem 1, depth 1: ``X̃^1 = X^1 = X in [0,1]``, ``P_1 = r^0 = 1``, ``B_1 = 0``."""
    P, B = Seq("P"), Seq("B")
    a, e = z3.Reals("a e")
    hyp = [P(1) == 1, B(1) == 0, 0 <= a, a <= 1, e == 0]
    last = e < B(1) if strict else e <= B(1)
    return Goal(hyp, z3.And(a <= P(1), last, B(1) == P(1) - 1, P(1) >= 1))


def act_step_goal(*, factor: Fraction | int = 1, assume_k_le_1: bool = True) -> Goal:
    """Theorem 1, activations: ``||X̃^i|| <= P_i => ||X̃^{i+1}|| <= r P_i = P_{i+1}``.

    ``a = ||X̃^i||``, ``k = ||K_i||_1 <= 1``, ``y = ||σ(K_i * X̃^i)|| <= k a``
    (Proposition 1 and ``|σ(z)| <= |z|``), ``a2 = ||X̃^{i+1}|| <= q a + y`` (Eq. 4
    scaled, reverse triangle inequality).
    """
    eps, q, p, a, a2, k, y = z3.Reals("eps q p a a2 k y")
    ell = z3.Int("ell")
    hyp = _budget(eps, ell, q) + [p >= 1, 0 <= a, a <= p, 0 <= k, 0 <= y, y <= k * a,
                                  0 <= a2, a2 <= q * a + y]
    if assume_k_le_1:
        hyp.append(k <= 1)
    return Goal(hyp, z3.And(a2 <= z3.RealVal(factor) * (1 + q) * p, (1 + q) * p >= 1))


def eq5_goal(*, assume_k_le_1: bool = True) -> Goal:
    """Theorem 1, Eq. 5: ``||X^{i+1} - X̃^{i+1}|| <= ||X^i - X̃^i|| + P_i q``.

    ``e = ||X^i - X̃^i||``, ``e2 <= k e + t`` (triangle inequality, Lipschitz ReLU
    and Proposition 1 with ``k = ||K_i||_1``), ``t <= q a`` (Eq. 3 scaled),
    ``a = ||X̃^i|| <= P_i``.  The twin drops ``||K_i||_1 <= 1``.
    """
    eps, q, p, a, k, e, e2, t = z3.Reals("eps q p a k e e2 t")
    ell = z3.Int("ell")
    hyp = _budget(eps, ell, q) + [p >= 1, 0 <= a, a <= p, 0 <= k, 0 <= e, 0 <= t,
                                  t <= q * a, e2 <= k * e + t]
    if assume_k_le_1:
        hyp.append(k <= 1)
    return Goal(hyp, e2 <= e + p * q)


def unroll_step_goal(*, shifted_power: bool = False) -> Goal:
    """Theorem 1, Eq. 5 unrolled: ``B_i = sum_{j<i} P_j q = P_i - 1`` carries to ``i + 1``.

    ``P_{i+1} = r P_i``, ``B_{i+1} = B_i + P_i q``; with ``e_i <= B_i`` and Eq. 5
    (``e_{i+1} <= e_i + P_i q``): ``e_{i+1} <= B_{i+1} = P_{i+1} - 1``.  The twin
    adds ``P_{i+1} q`` (the power one too high).
    """
    P, B = Seq("P"), Seq("B")
    eps, q, e, e2 = z3.Reals("eps q e e2")
    ell, i = z3.Ints("ell i")
    added = P(i + 1) * q if shifted_power else P(i) * q
    hyp = _budget(eps, ell, q) + [i >= 1, P(i) >= 1, B(i) == P(i) - 1, P(i + 1) == (1 + q) * P(i),
                                  B(i + 1) == B(i) + added, e <= B(i), e2 <= e + P(i) * q]
    return Goal(hyp, z3.And(e2 <= B(i + 1), B(i + 1) == P(i + 1) - 1, P(i + 1) >= 1))


def final_goal(*, budget_factor: Fraction | int = Fraction(1, 2)) -> Goal:
    """Theorem 1, last line: ``r^ℓ - 1 <= e^{ε/2} - 1 < ε`` for ``0 < ε < 1``.

    ``Pl = r^ℓ`` with ``1 <= Pl <= E`` (meta-step exp-bound), ``E = e^y``,
    ``y = budget_factor ε`` with ``1 + y + y²/2 <= E <= 1 + y + y²`` (meta-step
    taylor, ``0 <= y <= 1``).  The twin spends ``ε/ℓ`` per layer (y = ε).
    """
    eps, y, Pl, E = z3.Reals("eps y Pl E")
    hyp = [eps > 0, eps < 1, y == z3.RealVal(budget_factor) * eps, 1 <= Pl, Pl <= E,
           1 + y + y * y / 2 <= E, E <= 1 + y + y * y]
    return Goal(hyp, z3.And(Pl - 1 <= E - 1, E - 1 < eps))


OBLIGATIONS = (
    Obligation("theorem1.lipschitz", NAME, "|σ(a) - σ(b)| <= |a - b|", "LRA", lipschitz_goal,
               {}, {"factor": Fraction(99, 100)}, "twin: <= 0.99 |a - b|"),
    Obligation("theorem1.homogeneous", NAME, "c >= 0  =>  σ(c y) = c σ(y)", "NRA",
               homogeneous_goal, {}, {"assume_nonneg": False}, "twin: without c >= 0"),
    Obligation("theorem1.base", NAME, "P_1 = 1, B_1 = 0, ||X|| in [0,1], e_1 = 0  =>  "
               "||X̃^1|| <= P_1, e_1 <= B_1 = P_1 - 1, P_1 >= 1", "UFLRA", base_goal,
               {}, {"strict": True}, "twin: e_1 < B_1"),
    Obligation("theorem1.act.step", NAME, "q = ε/(2ℓ), 0 <= a <= p, 0 <= k <= 1, y <= k a, "
               "a2 <= q a + y  =>  a2 <= (1 + q) p", "NRA", act_step_goal,
               {}, {"factor": Fraction(99, 100)}, "twin: a2 <= 0.99 (1 + q) p"),
    Obligation("theorem1.eq5", NAME, "q = ε/(2ℓ), 0 <= a <= p, 0 <= k <= 1, t <= q a, "
               "e2 <= k e + t  =>  e2 <= e + p q  (Eq. 5)", "NRA", eq5_goal,
               {}, {"assume_k_le_1": False}, "twin: without ||K_i||_1 <= 1"),
    Obligation("theorem1.unroll.step", NAME, "B_i = P_i - 1, P_{i+1} = (1+q) P_i, "
               "B_{i+1} = B_i + P_i q, e <= B_i, e2 <= e + P_i q  =>  "
               "e2 <= B_{i+1} = P_{i+1} - 1", "UFNRA", unroll_step_goal,
               {}, {"shifted_power": True}, "twin: B_{i+1} = B_i + P_{i+1} q"),
    Obligation("theorem1.final", NAME, "0 < ε < 1, y = ε/2, 1 <= r^ℓ <= E, "
               "1 + y + y²/2 <= E <= 1 + y + y²  =>  r^ℓ - 1 <= E - 1 < ε", "NRA", final_goal,
               {}, {"budget_factor": 1}, "twin: per-layer error ε/ℓ (y = ε)"),
)

META_STEPS = (
    MetaStep("assume-eq3",
             "Eq. 3: for every layer i, sup_{X in [0,1]} ||K_i * X - L_{2i} * σ(L_{2i-1} * X)|| "
             "< ε/(2ℓ)",
             "Lemma 2 with ε/(2ℓ) per layer and a union bound: the event Appendix B "
             "conditions on (probabilistic; checked on sampled instances, not here)"),
    MetaStep("scale-by-homogeneity",
             "for X̃ >= 0 with c = ||X̃||: ||K * X̃ - L' * σ(L * X̃)|| = c ||K * (X̃/c) - "
             "L' * σ(L * (X̃/c))|| < c ε/(2ℓ), X̃/c in [0,1]",
             "convolutions are linear (a scalar enters a finite sum: lemma1.scale.step) "
             "and σ is positively homogeneous (theorem1.homogeneous); c = 0 is trivial",
             ("theorem1.homogeneous", "lemma1.scale.step")),
    MetaStep("depth-induction",
             "the invariant I(i): P_i = (1+q)^{i-1} >= 1, ||X̃^i|| <= P_i, "
             "||X^i - X̃^i|| <= B_i = P_i - 1 holds for i = 1..ℓ, and the last layer (Eq. 3, "
             "no ReLU) gives ||f(X) - g(X)|| <= B_{ℓ+1} = (1+q)^ℓ - 1",
             "induction on i, with the power's recursion (1+q)^i = (1+q) (1+q)^{i-1}; the last "
             "layer is the step without σ (theorem1.eq5 and theorem1.unroll.step at i = ℓ)",
             ("theorem1.base", "theorem1.act.step", "theorem1.eq5", "theorem1.unroll.step")),
    MetaStep("exp-bound",
             "(1 + x/ℓ)^ℓ <= e^x for real x >= 0 and integer ℓ >= 1",
             "ln(1 + u) <= u for u > -1 (concavity of ln), so ℓ ln(1 + x/ℓ) <= x; exp "
             "is increasing"),
    MetaStep("taylor",
             "1 + y + y²/2 <= e^y <= 1 + y + y² for 0 <= y <= 1",
             "e^y = sum_k y^k/k! with non-negative terms; y^k <= y² for k >= 2 and "
             "sum_{k>=2} 1/k! = e - 2 < 1"),
)

CHAIN = (
    ChainStep("Eq. 4: sup ||σ(K_i * X) - σ(L_{2i} * σ(L_{2i-1} * X))|| < ε/(2ℓ)",
              ("assume-eq3", "theorem1.lipschitz")),
    ChainStep("per-layer error at X̃^i <= q ||X̃^i||",
              ("assume-eq3", "scale-by-homogeneity")),
    ChainStep("||σ(K_i * X̃)|| <= ||K_i||_1 ||X̃||, ||σ(K_i*X) - σ(K_i*X̃)|| <= ||K_i||_1 ||X - X̃||",
              ("Proposition 1", "theorem1.lipschitz")),
    ChainStep("||f(X) - g(X)|| <= (1 + ε/(2ℓ))^ℓ - 1 for every depth ℓ",
              ("theorem1.base", "theorem1.act.step", "theorem1.eq5", "theorem1.unroll.step",
               "depth-induction")),
    ChainStep("Theorem 1 (deterministic part): ||f(X) - g(X)|| <= (1 + ε/(2ℓ))^ℓ - 1 "
              "<= e^{ε/2} - 1 < ε", ("exp-bound", "taylor", "theorem1.final")),
)

PROOF = Proof(
    NAME, "Theorem 1 (Eq. 3-5)",
    "given Eq. 3 for every layer, ||f(X) - g(X)||_max <= (1 + ε/(2ℓ))^ℓ - 1 < e^{ε/2} - 1 "
    "< ε for every X in [0,1]^{D x D x c0}",
    "every depth ℓ >= 1 and 0 < ε < 1, all layer sizes (the error recursion of Appendix "
    "B; Eq. 3 itself is Lemma 2's probabilistic event, an assumption here)",
    OBLIGATIONS, META_STEPS, CHAIN)
