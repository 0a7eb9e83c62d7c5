"""Lemma 2's reduction to Lemma 1 (section 4.3) for all sizes.

With ``T`` fixed to the block-diagonal ``B`` (``B_{1,1,t,l} = 1`` iff
``(l-1) n' < t <= l n'``, ``n' = n/c1``), output channel l of
``g_{B,S}(X) = (V ⊙ B) * σ((U ⊙ S) * X)`` is Lemma 1's network on the l-th
block of U, S and V; so if Lemma 1 holds for every block with ``ε/c1`` (a
failure probability each), the union bound gives probability ``>= 1 - ε`` and
the max over the channels of errors ``< ε`` is ``< ε``.  Lemma 1's size
hypothesis for a block, ``n' >= C log(d² c0 / (ε/c1))``, follows from Lemma 2's
``n >= C c1 log(d² c0 c1 / ε)``.

Obligations (each with its negative twin):

``lemma2.blocks``       the blocks partition ``[c1 n']``: t lies in block
                        ``(t-1) div n' + 1`` and in no other (NIA);
``lemma2.base``         the empty sums and the max of no channel;
``lemma2.select.step``  summing ``B_{t,l} V_t H_t`` over t sums ``V_t H_t`` over block l (UFLRA);
``lemma2.max.step``     errors ``< ε`` on the first channels stay ``< ε`` for their max (UFLRA);
``lemma2.size``         Lemma 2's n gives Lemma 1's n' for ``ε/c1``, and ``c1 (ε/c1) = ε`` (NRA).
"""

from __future__ import annotations

import z3

from slth_check.proofs.core import ChainStep, Goal, MetaStep, Obligation, Proof, Seq

NAME = "lemma2"


def _in_block(t: z3.ArithRef, l: z3.ArithRef, n1: z3.ArithRef, *, left_closed: bool = False
              ) -> z3.BoolRef:
    """``(l-1) n' < t <= l n'`` (the paper's blocks); ``left_closed``: ``(l-1) n' <= t < l n'``."""
    if left_closed:
        return z3.And((l - 1) * n1 <= t, t < l * n1)
    return z3.And((l - 1) * n1 < t, t <= l * n1)


def blocks_goal(*, left_closed: bool = False) -> Goal:
    """Lemma 2: for ``c1, n' >= 1`` and ``t in [1, c1 n']``, t is in block ``l = (t-1) div n' + 1``,
    ``1 <= l <= c1``, and in no other block.

    The twin uses blocks ``(l-1) n' <= t < l n'`` (off by one: t = c1 n' falls out).
    """
    c1, n1, t, l2 = z3.Ints("c1 n1 t l2")
    lt = (t - 1) / n1 + 1 if not left_closed else t / n1 + 1
    hyp = [c1 >= 1, n1 >= 1, 1 <= t, t <= c1 * n1]
    other = z3.Implies(_in_block(t, l2, n1, left_closed=left_closed), l2 == lt)
    return Goal(hyp, z3.And(1 <= lt, lt <= c1, _in_block(t, lt, n1, left_closed=left_closed),
                            other))


def base_goal(*, strict_zero: bool = False) -> Goal:
    """Lemma 2, base case: empty sums ``Q(0) = R(0) = 0`` and the max of no channel ``M(0) = 0``."""
    Q, R, M = Seq("Q"), Seq("R"), Seq("M")
    eps = z3.Real("eps")
    hyp = [Q(0) == 0, R(0) == 0, M(0) == 0, eps > 0]
    return Goal(hyp, z3.And(Q(0) == R(0), M(0) < (0 if strict_zero else eps)))


def select_step_goal(*, mask_applied: bool = True) -> Goal:
    """Lemma 2, channel l of ``(V ⊙ B) * H``: the mask B selects block l, induction step.

    ``Q(n) = sum_{t<=n} B_{t,l} V_t H_t`` and ``R(n) = sum_{t<=n, t in block l} V_t H_t``.
    The twin forgets the mask (``T`` all ones).
    """
    Q, R, V, H = Seq("Q"), Seq("R"), Seq("V"), Seq("H")
    n, l, n1 = z3.Ints("n l n1")
    t = n + 1
    inside = _in_block(t, l, n1)
    b = z3.If(inside, z3.RealVal(1), z3.RealVal(0)) if mask_applied else z3.RealVal(1)
    hyp = [n >= 0, n1 >= 1, l >= 1, Q(n) == R(n), Q(t) == Q(n) + b * V(t) * H(t),
           R(t) == R(n) + z3.If(inside, V(t) * H(t), z3.RealVal(0))]
    return Goal(hyp, Q(t) == R(t))


def max_step_goal(*, strict: bool = True) -> Goal:
    """Lemma 2, the max over output channels: ``M(n) < ε``, ``e_{n+1} < ε`` give ``M(n+1) < ε``.

    ``M(n) = max(0, e_1, ..., e_n)``; the twin assumes only ``e_{n+1} <= ε``.
    """
    M, e = Seq("M"), Seq("e")
    n = z3.Int("n")
    eps = z3.Real("eps")
    t = n + 1
    hyp = [n >= 0, eps > 0, M(n) < eps, e(t) < eps if strict else e(t) <= eps,
           M(t) == z3.If(e(t) > M(n), e(t), M(n))]
    return Goal(hyp, M(t) < eps)


def size_goal(*, per_block_factor: bool = True) -> Goal:
    """Lemma 2, sizes: ``n >= C c1 log(d² c0 c1/ε)`` gives ``n' = n/c1 >= C log(d² c0/(ε/c1))``.

    ``Lg`` stands for the log of the common argument (``log`` is a function:
    equal arguments, meta-step ``same-log``); also ``c1 (ε/c1) = ε``, the
    union bound over the c1 channels.  The twin assumes ``n >= C log(...)``
    without the factor c1.
    """
    d, c0, c1 = z3.Ints("d c0 c1")
    C, eps, n, Lg, a, b = z3.Reals("C eps n Lg arg2 arg1")
    r1 = z3.ToReal(c1)
    e1 = eps / r1
    hyp = [d >= 1, c0 >= 1, c1 >= 1, C > 0, eps > 0, Lg >= 0,
           a == z3.ToReal(d * d * c0 * c1) / eps, b == z3.ToReal(d * d * c0) / e1,
           n >= (C * r1 * Lg if per_block_factor else C * Lg)]
    return Goal(hyp, z3.And(a == b, n / r1 >= C * Lg, r1 * e1 == eps))


OBLIGATIONS = (
    Obligation("lemma2.blocks", NAME, "c1, n' >= 1, 1 <= t <= c1 n'  =>  l = (t-1) div n' + 1 "
               "in [1, c1], (l-1) n' < t <= l n', and no other block holds t", "NIA",
               blocks_goal, {}, {"left_closed": True},
               "twin: blocks (l-1) n' <= t < l n' (t = c1 n' falls out)"),
    Obligation("lemma2.base", NAME, "Q(0) = R(0) = 0, M(0) = 0, ε > 0  =>  Q(0) = R(0), "
               "M(0) < ε", "UFLRA", base_goal, {}, {"strict_zero": True}, "twin: M(0) < 0"),
    Obligation("lemma2.select.step", NAME, "Q(n) = R(n), Q(n+1) = Q(n) + B_{n+1,l} V H, "
               "R(n+1) = R(n) + [n+1 in block l] V H  =>  Q(n+1) = R(n+1)", "UFNRA",
               select_step_goal, {}, {"mask_applied": False}, "twin: T all ones (no mask)"),
    Obligation("lemma2.max.step", NAME, "M(n) < ε, e_{n+1} < ε, M(n+1) = max(M(n), e_{n+1})  "
               "=>  M(n+1) < ε", "UFLRA", max_step_goal, {}, {"strict": False},
               "twin: only e_{n+1} <= ε"),
    Obligation("lemma2.size", NAME, "n >= C c1 Lg, Lg = log(d² c0 c1/ε)  =>  "
               "d² c0 c1/ε = d² c0/(ε/c1), n/c1 >= C Lg, c1 (ε/c1) = ε", "NRA", size_goal,
               {}, {"per_block_factor": False}, "twin: n >= C Lg (no factor c1)"),
)

META_STEPS = (
    MetaStep("assume-lemma1",
             "Lemma 1 (probabilistic): for n' >= C log(d² c0/ε'), with probability >= 1 - ε', "
             "every kernel K^{(l)} with ||K^{(l)}||_1 <= 1 has a mask S^{(l)} with "
             "sup_X ||K^{(l)} * X - V^{(l)} * σ((U^{(l)} ⊙ S^{(l)}) * X)||_max < ε'",
             "Lemma 1 of the paper (its deterministic part proved above: lemma1); the "
             "subset-sum event itself is probabilistic (checked on sampled instances)"),
    MetaStep("lemma2.induction",
             "if P(0) and P(n) => P(n+1) for all n >= 0, then P(N) for every N",
             "induction on the natural numbers (as induction-on-summands)",
             ("lemma2.base", "lemma2.select.step", "lemma2.max.step")),
    MetaStep("channels-of-a-convolution",
             "(K * X)_{:,:,l} = K_{:,:,:,l} * X and (V * H)_{i,j,l} = sum_t V_{1,1,t,l} H_{i,j,t}",
             "Definition 1 (one output channel at a time; lemma1.pointwise for 1 x 1)",
             ("lemma1.pointwise",)),
    MetaStep("same-log", "equal arguments have equal logarithms",
             "log is a function"),
)

CHAIN = (
    ChainStep("B partitions [n] into c1 blocks of n' indices", ("lemma2.blocks",)),
    ChainStep("channel l of (V ⊙ B) * σ((U ⊙ S) * X) is Lemma 1's network on block l",
              ("channels-of-a-convolution", "lemma2.blocks", "lemma2.base",
               "lemma2.select.step", "lemma2.induction")),
    ChainStep("each block meets Lemma 1's size for ε/c1; union bound c1 (ε/c1) = ε",
              ("lemma2.size", "same-log", "lemma1.l1max.step")),
    ChainStep("Lemma 2 (given Lemma 1 per block)",
              ("assume-lemma1", "lemma2.base", "lemma2.max.step", "lemma2.induction",
               "max-over-entries")),
)

PROOF = Proof(
    NAME, "Lemma 2 (reduction to Lemma 1)",
    "with T = B block diagonal, sup_X ||K * X - (V ⊙ B) * σ((U ⊙ S) * X)||_max < ε when "
    "Lemma 1 holds for each of the c1 blocks with ε/c1; n >= C c1 log(d² c0 c1/ε) gives "
    "each block Lemma 1's size",
    "all d, D, c0, c1, n' >= 1 and ε > 0 (the deterministic reduction of section 4.3; "
    "Lemma 1's probabilistic event per block is an assumption)",
    OBLIGATIONS, META_STEPS, CHAIN)
