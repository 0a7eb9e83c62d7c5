"""Lemma 1, Lemma 2 and Theorem 1 as constructions of pruned random networks.

Names follow the paper.  A pruned random layer (Lemma 2) is
``g_{T,S}(X) = (V . T) * sigma((U . S) * X)`` with ``U`` of shape
``(d, d, c0, n)``, ``V`` of shape ``(1, 1, n, c1)`` and masks ``S``, ``T`` of
the same shapes.  The construction of the proofs:

1. prune every non-positive entry of ``U`` (``S <= [U > 0]``); for inputs
   ``X >= 0`` then ``sigma((U . S) * X) = (U . S) * X`` (Eq. 1) and the layer
   equals the convolution with the *effective kernel*
   ``L[i,j,k,l] = sum_t V[t,l] T[t,l] U[i,j,k,t] S[i,j,k,t]`` (Eq. 2);
2. ``T`` is block-diagonal: output channel l uses the block
   ``t in [l n', (l+1) n')`` with ``n' = n // c1``; when c1 does not divide n
   the last ``n - c1 n'`` samples are pruned (``S = T = 0`` there);
3. each entry ``K[i,j,k,l]`` is approximated by a subset of the numbers
   ``V[t,l] U[i,j,k,t]`` (t in block l, ``U > 0``) chosen by random subset
   sum (:mod:`slth_check.rss`); the subset is the kept part of ``S``.

Generalisations (section 2.1): a bias ``b`` is approximated like one more
kernel entry from random first-layer biases ``Ub`` (the ``d*d + 1`` variant
of the footnote); stride, padding and 2x2 pooling are copied from the target
layer and act identically on both networks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from fractions import Fraction
from typing import Any, cast

import numpy as np

from slth_check.conv import Padding, Pool
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN, PrunedLayer, check_shape
from slth_check.rss import RSSResult, solve_many
from slth_check.rss.result import Status
from slth_check.tensors import as_float_array

# ---------------------------------------------------------------- constructions

#: At most this many positive samples enter one entry's subset-sum problem.  The
#: construction needs *a* good subset, not the optimum over all samples: the
#: exact optimum over the first MAX_RSS_SAMPLES positive samples is kept (its
#: error is certified exactly like any other), so wide layers stay fast.
MAX_RSS_SAMPLES = 30


def _trivial(target: float) -> RSSResult:
    """The answer when no sample is positive: the empty sum, optimal by default."""
    return RSSResult(np.zeros(0, bool), Fraction(0), abs(Fraction(float(target))),
                     "optimal", "trivial", {"proof": "no positive sample: empty sum only"})


def solve_entries(problems: Sequence[tuple[float, np.ndarray]], method: str = "auto", *,
                  executor: Executor | None = None) -> list[RSSResult]:
    """Step 3 of the proofs of Lemmas 1-2 in bulk: one RSS answer per ``(target, values)``.

    The problems are grouped by size and each group is one
    :func:`slth_check.rss.solve_many` call (on ``executor``, else inline), whose
    rows are the answers :func:`slth_check.rss.solve` gives one by one (the
    mask; ``achieved`` and ``error`` are recomputed exactly from it).  With
    ``method="auto"`` only the first :data:`MAX_RSS_SAMPLES` values of a longer
    problem enter it (status ``feasible``: optimal over those only); a problem
    without values gets the empty sum.
    """
    out: list[RSSResult | None] = [None] * len(problems)
    groups: dict[int, list[int]] = {}
    for i, (target, values) in enumerate(problems):
        k = values.size if method != "auto" else min(values.size, MAX_RSS_SAMPLES)
        if k == 0:
            out[i] = _trivial(target)
        else:
            groups.setdefault(k, []).append(i)
    for k, idx in sorted(groups.items()):
        V = np.stack([problems[i][1][:k] for i in idx])
        T = np.array([float(problems[i][0]) for i in idx])
        res = solve_many(V, T, method=method, executor=executor, progress=False,
                         workers=1 if executor is None else None)
        for row, i in enumerate(idx):
            target, values = problems[i]
            r = RSSResult.from_mask(V[row], target, res.masks[row],
                                    cast(Status, str(res.status[row])),
                                    res.method, {"proof": f"the answer of rss.solve "
                                                          f"(method {res.method}), in bulk"})
            if values.size > k:  # only the first MAX_RSS_SAMPLES samples were offered
                r.mask = np.concatenate([r.mask, np.zeros(values.size - k, dtype=bool)])
                if r.status == "optimal":
                    r.status = "feasible"
                    r.certificate = {"proof": f"optimal over the first {MAX_RSS_SAMPLES} of "
                                              f"{values.size} samples"}
            out[i] = r
    return [r for r in out if r is not None]


def _kernel_problems(K: np.ndarray, U: np.ndarray, v: np.ndarray, l: int = 0
                     ) -> list[tuple[tuple, np.ndarray, float, np.ndarray]]:
    """Per entry ``idx`` of output channel ``l``: the positive samples' positions and the
    problem ``(K[idx, l], {v_t U[idx, t] : U[idx, t] > 0})`` of step 3."""
    d, _, c, _ = U.shape
    probs = []
    for idx in np.ndindex(d, d, c):
        pos = np.flatnonzero(U[idx] > 0)
        probs.append((idx, pos, float(K[idx + (l,)]), v[pos] * U[idx][pos]))
    return probs


def build_kernel(K: Any, U: Any, V: Any, *, method: str = "auto",
                 executor: Executor | None = None) -> tuple[np.ndarray, dict]:
    """Lemma 1: the mask S for one output channel.

    K (d, d, c, 1), U (d, d, c, n), V (1, 1, n, 1).  Every non-positive entry
    of U is pruned; per entry of K, the subset of ``{V_t U+_{i,j,k,t}}``
    chosen by RSS (``method`` of :func:`slth_check.rss.solve`) is kept; the
    entries are solved in bulk (:func:`solve_entries`, on ``executor``).
    Returns S (bool, shape of U) and the :class:`RSSResult` of each entry.
    """
    K = as_float_array(K, "K", ndim=4)
    U = as_float_array(U, "U", ndim=4)
    V = as_float_array(V, "V", ndim=4)
    d, _, c, n = U.shape
    check_shape(K, "K", (d, d, c, 1))
    check_shape(V, "V", (1, 1, n, 1))
    S = np.zeros(U.shape, dtype=bool)
    probs = _kernel_problems(K, U, V[0, 0, :, 0])
    res = solve_entries([(t, vals) for _, _, t, vals in probs], method, executor=executor)
    results: dict[tuple, RSSResult] = {}
    for (idx, pos, _, _), r in zip(probs, res):
        S[idx + (pos[r.mask],)] = True
        results[idx] = r
    return S, results


def block_mask(n: int, c1: int) -> np.ndarray:
    """The block-diagonal T of Lemma 2's proof, shape (1, 1, n, c1)."""
    if c1 < 1 or n < c1:
        raise ValueError(f"n: expected n >= c1 = {c1} to split the samples over the output "
                         f"channels, got n={n}")
    n1 = n // c1
    T = np.zeros((1, 1, n, c1), dtype=bool)
    for l in range(c1):
        T[0, 0, l * n1:(l + 1) * n1, l] = True
    return T


def build_layer(K: Any, U: Any, V: Any, *, method: str = "auto", bias: Any = None,
                Ub: Any = None, padding: Padding = "paper", stride: int = 1,
                pool: Pool | None = None, executor: Executor | None = None) -> PrunedLayer:
    """Lemma 2: masks S, T for a layer K (d, d, c0, c1) from U (d, d, c0, n), V (1, 1, n, c1).

    ``T`` is block-diagonal with ``n' = n // c1`` (the last ``n mod c1`` samples
    are pruned when c1 does not divide n); output channel l runs Lemma 1 on its
    block.  With ``bias`` (c1,) and random first-layer biases ``Ub`` (n,), each
    ``bias[l]`` is approximated by a subset of ``{V[t,l] Ub[t] : Ub[t] > 0}``.
    All the layer's problems are solved in bulk (:func:`solve_entries`, grouped by
    size, on ``executor``, else inline): the masks of solving them one by one.
    """
    K = as_float_array(K, "K", ndim=4)
    U = as_float_array(U, "U", ndim=4)
    V = as_float_array(V, "V", ndim=4)
    d, _, c0, n = U.shape
    c1 = K.shape[3]
    check_shape(K, "K", (d, d, c0, c1))
    check_shape(V, "V", (1, 1, n, c1))
    T = block_mask(n, c1)
    n1 = n // c1
    S = np.zeros(U.shape, dtype=bool)
    Sb = np.zeros(n, dtype=bool)  # kept random biases (returned only with a bias)
    rss: dict[tuple, RSSResult] = {}
    if bias is not None:
        bias = as_float_array(bias, "bias", ndim=1)
        check_shape(bias, "bias", (c1,))
        if Ub is None:
            raise ValueError("Ub: expected random first-layer biases (n,) when bias is given")
        Ub = as_float_array(Ub, "Ub", ndim=1)
        check_shape(Ub, "Ub", (n,))
    keys: list[tuple[tuple, np.ndarray]] = []  # (key of layer.rss, columns of U)
    problems: list[tuple[float, np.ndarray]] = []
    for l in range(c1):
        blk = slice(l * n1, (l + 1) * n1)
        for idx, pos, t, vals in _kernel_problems(K, U[..., blk], V[0, 0, blk, l], l):
            keys.append((idx + (l,), l * n1 + pos))
            problems.append((t, vals))
        if bias is not None:
            pos = np.flatnonzero(Ub[blk] > 0)
            keys.append((("bias", l), l * n1 + pos))
            problems.append((float(bias[l]), V[0, 0, blk, l][pos] * Ub[blk][pos]))
    for (key, cols), r in zip(keys, solve_entries(problems, method, executor=executor)):
        if key[0] == "bias":
            Sb[cols[r.mask]] = True
        else:
            S[key[:3] + (cols[r.mask],)] = True
        rss[key] = r
    return PrunedLayer(U, V, S, T, Ub if bias is not None else None,
                       Sb if bias is not None else None, padding, stride, pool, rss)


def required_n(C: float, d: int, c0: int, c1: int, ell: int, eps: float,
               delta: float | None = None) -> int:
    """Theorem 1's ``n_i = ceil(C c_i log(d_i^2 c_{i-1} c_i ell / min(eps, delta)))``.

    With ``ell = 1`` and ``delta = eps`` this is Lemma 2's ``C c1 log(d^2 c0 c1/eps)``
    (and Lemma 1's for c1 = 1).
    """
    if not 0 < C < math.inf:  # inf: math.ceil's OverflowError; nan: its ValueError
        raise ValueError(f"C: expected a positive constant (finite), got {C}")
    if not 0 < eps < 1:
        raise ValueError(f"eps: expected 0 < eps < 1, got {eps}")
    if delta is not None and not 0 < delta < 1:
        raise ValueError(f"delta: expected 0 < delta < 1, got {delta}")
    m = min(eps, delta) if delta is not None else eps
    return max(c1, math.ceil(C * c1 * math.log(d * d * c0 * c1 * ell / m)))


def _guard_build(target: TargetCNN, ns: Sequence[int]) -> None:
    """Size guard of :func:`build_network`, before anything is drawn.

    Layer i holds ``n_i * d*d*c0`` entries of U (float64) and of its mask S,
    the subset-sum masks (one bit per entry of U), and ``n_i * c1`` of V and T.
    """
    from slth_check.tensors import check_size

    nbytes = sum(n_i * (L.d * L.d * L.c0 * (8 + 1 + 1) + L.c1 * (8 + 1))
                 for L, n_i in zip(target.layers, ns))
    check_size("n", nbytes, what="this build_network",
               hint=f"n = {list(ns)} samples per layer for kernels "
                    f"{[(L.d, L.d, L.c0, L.c1) for L in target.layers]}")


def build_network(target: TargetCNN, *, n: int | Sequence[int] | None = None,
                  C: float | None = None, eps: float | None = None,
                  delta: float | None = None, rng: np.random.Generator | int | None = None,
                  random_layers: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
                  method: str = "auto", executor: Executor | None = None) -> PrunedCNN:
    """Theorem 1: the pruned random network emulating ``target``.

    Layer i uses ``n_i`` samples: given as ``n`` (int or one per layer) or
    computed by :func:`required_n` from ``(C, eps, delta)``.  The random
    layers ``L_{2i-1}`` (d_i, d_i, c_{i-1}, n_i) and ``L_{2i}`` (1, 1, n_i, c_i)
    (and, for biased layers, random biases (n_i,)) are drawn i.i.d.
    Unif([-1, 1]) from ``rng`` (a Generator or seed), or supplied as
    ``random_layers`` [(U_1, V_1), ...].  Each layer's subset-sum problems go
    through the bulk path on ``executor`` (:func:`build_layer`); the result does
    not depend on it.
    """
    if not isinstance(target, TargetCNN):
        raise TypeError(f"target: expected a TargetCNN, got {type(target).__name__}")
    ell = target.ell
    if random_layers is not None:
        if len(random_layers) != ell:
            raise ValueError(f"random_layers: expected {ell} (U, V) pairs, got "
                             f"{len(random_layers)}")
        ns = [np.asarray(U).shape[3] for U, _ in random_layers]
    elif n is not None:
        ns = [int(v) for v in n] if isinstance(n, Iterable) else [int(n)] * ell
        if len(ns) != ell:
            raise ValueError(f"n: expected one value per layer ({ell}), got {len(ns)}")
    else:
        if C is None or eps is None:
            raise ValueError("n: give n, or C and eps (and optionally delta) for the formula")
        ns = [required_n(C, L.d, L.c0, L.c1, ell, eps, delta) for L in target.layers]
    _guard_build(target, ns)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    layers = []
    for i, (L, n_i) in enumerate(zip(target.layers, ns)):
        if n_i < L.c1:
            raise ValueError(f"n: layer {i + 1} needs n >= c1 = {L.c1}, got {n_i}")
        if random_layers is not None:
            U, V = (as_float_array(a, nm, ndim=4) for a, nm in zip(random_layers[i], "UV"))
        else:
            U = gen.uniform(-1, 1, (L.d, L.d, L.c0, n_i))
            V = gen.uniform(-1, 1, (1, 1, n_i, L.c1))
        Ub = None
        if L.bias is not None:
            Ub = gen.uniform(-1, 1, n_i)
        layers.append(build_layer(L.K, U, V, method=method, bias=L.bias, Ub=Ub,
                                  padding=L.padding, stride=L.stride, pool=L.pool,
                                  executor=executor))
    return PrunedCNN(layers, final_relu=target.final_relu)
