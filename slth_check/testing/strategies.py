"""Public Hypothesis strategies for slth-check.

Small composable strategies, each documented by what it generates, in the
paper's layout.  Sizes are bounded (by default ``d <= 3``, ``D <= 6``,
channels ``<= 3``) so that exact-arithmetic checks stay fast.

* :func:`shapes` - ``(d, D, c0, c1)`` tuples;
* :func:`class_kernels` - kernels of the theorems' class: entries in [-1, 1]
  and ``||K||_1 <= 1`` (checked exactly), with the boundary ``||K||_1 = 1``,
  one-hot, sparse and dyadic kernels drawn often;
* :func:`kernels` - unrestricted finite kernels, any sign and magnitude;
* :func:`unit_inputs` - inputs in [0, 1], including all-zero, all-one and binary;
* :func:`signed_inputs` - inputs of any sign;
* :func:`class_networks` - target networks of the class F of Theorem 1;
* :func:`cancelling_pairs` - (target, pruned) pairs whose effective kernels cancel.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slth_check.conv import l1_exact
from slth_check.network import TargetCNN, scale_into_class

MAX_D = 3
MAX_SIZE = 6
MAX_C = 3

_unit = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)
_sym = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)


@st.composite
def shapes(draw, *, max_d: int = MAX_D, max_D: int = MAX_SIZE, max_c: int = MAX_C,
           D_at_least_d: bool = True) -> tuple[int, int, int, int]:
    """``(d, D, c0, c1)`` with ``1 <= d <= max_d``, ``D <= max_D``, channels ``<= max_c``."""
    d = draw(st.integers(1, max_d))
    D = draw(st.integers(d if D_at_least_d else 1, max(max_D, d)))
    c0 = draw(st.integers(1, max_c))
    c1 = draw(st.integers(1, max_c))
    return d, D, c0, c1


@st.composite
def _dyadic_kernel(draw, shape: tuple[int, ...], boundary: bool) -> np.ndarray:
    """Entries ``n_t / 2**k`` with ``sum |n_t| <= 2**k`` (``= 2**k`` on the boundary)."""
    size = int(np.prod(shape))
    k = draw(st.integers(0, 10))
    total = 2**k
    nz = draw(st.integers(1, size))
    mags = draw(st.lists(st.integers(1, total), min_size=nz, max_size=nz))
    # rescale the magnitudes into the budget exactly
    s = sum(mags)
    if boundary:
        mags = [m * total // s for m in mags]
        mags[0] += total - sum(mags)
    else:
        mags = [max(0, m * total // max(s, total)) for m in mags]
    signs = draw(st.lists(st.sampled_from([-1, 1]), min_size=nz, max_size=nz))
    pos = draw(st.permutations(range(size)))[:nz]
    flat = np.zeros(size)
    for p, m, sg in zip(pos, mags, signs):
        flat[p] = sg * m / total
    K = flat.reshape(shape)
    if boundary:
        assert l1_exact(K) == 1
    return K


@st.composite
def class_kernels(draw, d: int, c0: int, c1: int = 1) -> np.ndarray:
    """Kernels of the theorems' class: ``K in [-1, 1]^{d x d x c0 x c1}``, ``||K||_1 <= 1``.

    Mixes general floats scaled into the class, the boundary ``||K||_1 = 1``
    (dyadic, exact), one-hot kernels (a single ``+-1``), sparse kernels and
    the zero kernel.
    """
    shape = (d, d, c0, c1)
    kind = draw(st.sampled_from(["general", "boundary", "one-hot", "sparse", "dyadic", "zero"]))
    if kind == "general":
        K = draw(hnp.arrays(np.float64, shape, elements=_sym))
        return scale_into_class(K)
    if kind == "boundary":
        return draw(_dyadic_kernel(shape, boundary=True))
    if kind == "dyadic":
        return draw(_dyadic_kernel(shape, boundary=False))
    if kind == "one-hot":
        K = np.zeros(shape)
        idx = draw(st.tuples(*(st.integers(0, n - 1) for n in shape)))
        K[idx] = draw(st.sampled_from([-1.0, 1.0]))
        return K
    if kind == "sparse":
        K = np.zeros(int(np.prod(shape)))
        nz = draw(st.integers(1, min(3, K.size)))
        pos = draw(st.permutations(range(K.size)))[:nz]
        K[list(pos)] = draw(hnp.arrays(np.float64, nz, elements=_sym))
        return scale_into_class(K.reshape(shape))
    return np.zeros(shape)


def kernels(d: int, c0: int, c1: int, *, max_abs: float = 1e6) -> st.SearchStrategy[np.ndarray]:
    """Unrestricted finite float64 kernels (any sign; magnitudes up to ``max_abs``,
    subnormals included)."""
    return hnp.arrays(np.float64, (d, d, c0, c1),
                      elements=st.floats(-max_abs, max_abs, allow_nan=False,
                                         allow_infinity=False, allow_subnormal=True))


@st.composite
def unit_inputs(draw, D: int, c: int, batch: int | None = None) -> np.ndarray:
    """Inputs in [0, 1]^{D x D x c} (or a batch): general, all-zero, all-one, binary."""
    shape = (D, D, c) if batch is None else (batch, D, D, c)
    kind = draw(st.sampled_from(["general", "zeros", "ones", "binary"]))
    if kind == "zeros":
        return np.zeros(shape)
    if kind == "ones":
        return np.ones(shape)
    if kind == "binary":
        return draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    return draw(hnp.arrays(np.float64, shape, elements=_unit))


def signed_inputs(D: int, c: int, *, max_abs: float = 1e6) -> st.SearchStrategy[np.ndarray]:
    """Inputs of any sign, finite, magnitudes up to ``max_abs`` (subnormals included)."""
    return hnp.arrays(np.float64, (D, D, c),
                      elements=st.floats(-max_abs, max_abs, allow_nan=False,
                                         allow_infinity=False, allow_subnormal=True))


@st.composite
def class_networks(draw, *, min_ell: int = 1, max_ell: int = 3, max_d: int = MAX_D,
                   max_c: int = MAX_C) -> TargetCNN:
    """Target networks of Theorem 1's class F (kernels of the class, no bias)."""
    ell = draw(st.integers(min_ell, max_ell))
    cs = [draw(st.integers(1, max_c)) for _ in range(ell + 1)]
    Ks = []
    for i in range(ell):
        d = draw(st.integers(1, max_d))
        Ks.append(draw(class_kernels(d, cs[i], cs[i + 1])))
    return TargetCNN.from_kernels(Ks)



@st.composite
def cancelling_pairs(draw, *, min_ell: int = 2, max_ell: int = 3, max_d: int = 2,
                     max_c: int = 2, max_k: int = 2, biases: bool | None = None):
    """``(target, pruned)`` pairs built to stress certification (not by Theorem 1).

    Each pruned layer is linearisable (kept U >= 0, kept Ub >= 0) and its samples
    come in triples ``(V, r, -V)`` with the same U: ``|V|`` up to ``2^30`` and ``r``
    up to ``2^-30`` times smaller, so the float64 effective kernels and biases
    (``US @ VT``, Eq. 2) lose ``r`` while the exact ones keep it.  The target is the
    exact effective network rounded to float64, plus an occasional perturbation of
    the size of ``r``: the pruned network approximates it well, as a construction
    would, and an unsound float step shows.  Stride 1, paper padding; an occasional
    final ReLU or 2x2 pooling on the last layer.
    """
    from slth_check.network import ConvLayer
    from slth_check.pruned import PrunedCNN, PrunedLayer

    ell = draw(st.integers(min_ell, max_ell))
    cs = [draw(st.integers(1, max_c)) for _ in range(ell + 1)]
    with_bias = draw(st.booleans()) if biases is None else biases
    big = st.builds(lambda m, k: m * 2.0**k, st.integers(-3, 3), st.integers(0, 30))
    small = st.builds(lambda m, k: m * 2.0**k, st.integers(-3, 3), st.integers(-30, 0))
    pos = st.builds(lambda m, k: m * 2.0**k, st.integers(0, 3), st.integers(-4, 4))
    pool = draw(st.sampled_from([None, None, "max", "avg"]))
    final_relu = draw(st.booleans())
    t_layers, p_layers = [], []
    for i in range(ell):
        d = draw(st.integers(1, max_d))
        c0, c1 = cs[i], cs[i + 1]
        k = draw(st.integers(1, max_k))
        n = 3 * k
        U = draw(hnp.arrays(np.float64, (d, d, c0, k), elements=pos))
        U = np.concatenate([U, U, U], axis=3)  # one U under v, r and -v
        v = draw(hnp.arrays(np.float64, (k, c1), elements=big))
        r = draw(hnp.arrays(np.float64, (k, c1), elements=small)) * 2.0**-30
        V = np.concatenate([v, r, -v])[None, None]
        S = (U >= 0) & (draw(hnp.arrays(np.bool_, U.shape)) | True)
        T = np.ones(V.shape, bool)
        Ub = Sb = None
        if with_bias:
            Ub = draw(hnp.arrays(np.float64, (k,), elements=pos))
            Ub, Sb = np.concatenate([Ub, Ub, Ub]), np.ones(n, bool)
        pl = pool if i == ell - 1 else None
        P = PrunedLayer(U, V, S, T, Ub, Sb, pool=pl)
        rnd = np.vectorize(float, otypes=[float])
        K = rnd(P.effective_kernel(exact=True))
        b = None if Ub is None else rnd(P.effective_bias(exact=True))
        if draw(st.booleans()):
            K = K + draw(hnp.arrays(np.float64, K.shape, elements=small)) * 2.0**-30
        t_layers.append(ConvLayer(K, bias=b, pool=pl))
        p_layers.append(P)
    return (TargetCNN(t_layers, final_relu=final_relu),
            PrunedCNN(p_layers, final_relu=final_relu))
