"""Certified worst-case error ``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g_S(X)||_max``.

:func:`sup_error` returns a :class:`Certificate` with a sound ``upper`` bound,
a ``lower`` bound attained by a ``witness`` input replayed in exact
arithmetic, and ``exact = (lower == upper)``.

Methods:

* ``closed-form`` (one layer, linearisable pruned layer, no pooling): for
  ``X >= 0`` the error map is ``(K - L) * X + (b - b~)`` (Eq. 1-2), linear, so
  per output position the sup over ``[0, 1]`` is
  ``max(sum E+ + db, sum E- - db)`` over the window the padding leaves, with
  ``E = K - L``; exact in rational arithmetic, attained by a 0/1 witness.
* ``bounds`` (any depth): three sound upper bounds, the smallest kept:
  interval bound propagation through both networks in float64 with outward
  rounding (Higham's bound on every convolution); the recursion of Theorem 1's
  proof ``e_{i+1} <= max_l ||K_{i,l}||_1 e_i + err_i(M_i)`` with the per-layer
  closed-form errors ``err_i`` on ``[0, M_i]`` and ``M_i`` the interval bound on
  the pruned activations (exact rationals); and the same recursion carried out
  entry by entry (:func:`entrywise_bound`); a lower bound by a local search
  over the vertices of ``[0, 1]^{D x D x c0}`` replayed exactly.
* ``milp`` (small instances, no max pooling): the worst case by
  ``scipy.optimize.milp`` with a big-M encoding of every ReLU (bounds from the
  interval pass); its witness is replayed exactly and becomes ``lower``; its
  floating-point objective is reported as ``milp_value`` but never used as a
  bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .arithmetic import gamma, to_fraction
from .construction import PrunedCNN
from .conv import _crop, conv2d, conv2d_exact, output_size, pool2d
from .network import ConvLayer, LayeredCNN, TargetCNN
from .tensors import check_entries, check_size

ETA = 5e-324


class CertificationError(RuntimeError):
    """A certificate contradicted itself (lower > upper): an internal error, never a
    verdict (the command exits with code 4)."""


@dataclass
class Certificate:
    """Bounds on the sup error over all inputs in [0, 1]."""

    lower: Fraction
    upper: Fraction | None
    exact: bool
    witness: np.ndarray | None
    method: str
    details: dict[str, Any] = field(default_factory=dict)


def check_pair(target: TargetCNN, pruned: PrunedCNN) -> None:
    """Shapes and layer settings of the target and the pruned network must match."""
    if not isinstance(target, TargetCNN):
        raise TypeError(f"target: expected a TargetCNN, got {type(target).__name__}")
    if not isinstance(pruned, PrunedCNN):
        raise TypeError(f"pruned: expected a PrunedCNN, got {type(pruned).__name__}")
    if target.ell != pruned.ell:
        raise ValueError(f"pruned: expected {target.ell} emulated layers, got {pruned.ell}")
    for i, (K, P) in enumerate(zip(target.layers, pruned.layers), 1):
        d, _, c0, c1 = K.K.shape
        if P.U.shape[:3] != (d, d, c0) or P.V.shape[3] != c1:
            raise ValueError(f"pruned: layer {i} has U {P.U.shape}, V {P.V.shape}; expected "
                             f"U ({d}, {d}, {c0}, n) and V (1, 1, n, {c1})")
        if (K.padding, K.stride, K.pool) != (P.padding, P.stride, P.pool):
            raise ValueError(f"pruned: layer {i} padding/stride/pool differ from the target")
        if (K.bias is None) != (P.Ub is None):
            raise ValueError(f"pruned: layer {i} bias present in one network only")
    if target.final_relu != pruned.final_relu:
        raise ValueError("pruned: final_relu differs from the target")


# ------------------------------------------------------------------ closed form

def error_parts(K: np.ndarray, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact positive and negative parts ``(E+, E-)`` of ``E = K - L`` (object arrays)."""
    E = to_fraction(K) - to_fraction(L)
    pos = np.asarray(np.frompyfunc(lambda v: v if v > 0 else Fraction(0), 1, 1)(E), dtype=object)
    neg = np.asarray(np.frompyfunc(lambda v: -v if v < 0 else Fraction(0), 1, 1)(E), dtype=object)
    return pos, neg


def bias_gap(K, P) -> np.ndarray | None:  # noqa: ANN001 - ConvLayer, PrunedLayer
    """Exact ``b - b~`` of a target layer and its emulation (None without biases)."""
    return None if K.bias is None else to_fraction(K.bias) - P.effective_bias(exact=True)


def layer_sup_error(K: np.ndarray, L: np.ndarray, D: int, *, M: Fraction = Fraction(1),
                    db: np.ndarray | None = None, padding: str = "paper",
                    stride: int = 1) -> tuple[Fraction, tuple, np.ndarray]:
    """Exact ``sup_{X in [0,M]} ||(K - L) * X + db||_max`` and its witness.

    ``K`` float, ``L`` exact (object) or float; returns (value, output index,
    witness X of shape (D, D, c0) with entries in {0, M}).
    """
    E = to_fraction(K) - to_fraction(L)
    pos, neg = error_parts(K, L)
    c0 = K.shape[2]
    ones = np.full((D, D, c0), Fraction(M), dtype=object)
    up = conv2d_exact(pos, ones, padding=padding, stride=stride)
    down = conv2d_exact(neg, ones, padding=padding, stride=stride)
    if db is not None:
        dbf = to_fraction(db)
        up, down = up + dbf, down - dbf
    best, idx, sign = Fraction(-1), None, 1
    for i in np.ndindex(up.shape):
        if up[i] > best:
            best, idx, sign = up[i], i, 1
        if down[i] > best:
            best, idx, sign = down[i], i, -1
    # witness: M where E has the chosen sign inside the window of output idx
    d = K.shape[0]
    start, _ = _crop(padding, D, d)
    P, Q, l = start + idx[0] * stride, start + idx[1] * stride, idx[2]
    X = np.zeros((D, D, c0))
    for a in range(d):
        for b in range(d):
            r, s = P - a, Q - b
            if 0 <= r < D and 0 <= s < D:
                for k in range(c0):
                    if (E[a, b, k, l] > 0) if sign > 0 else (E[a, b, k, l] < 0):
                        X[r, s, k] = float(M)
    return max(best, Fraction(0)), idx, X


# ------------------------------------------------------------------ exact replay

def exact_error(target: TargetCNN, pruned: PrunedCNN, X: np.ndarray, *,
                via: str = "pruned") -> Fraction:
    """``||f(X) - g(X)||_max`` in exact arithmetic.

    ``via="effective"`` evaluates g through its effective kernels, equal to g
    on ``X >= 0`` when the pruned network is linearisable (Eq. 1-2); it is
    much faster for wide pruned layers and refused otherwise.
    """
    f = target.forward_exact(X)
    if via == "effective":
        if not pruned.linearisable() or np.any(np.asarray(X, dtype=float) < 0):
            raise ValueError("via: 'effective' needs a linearisable network and X >= 0")
        g = exact_effective_forward(pruned, X)
    else:
        g = pruned.forward_exact(X)
    return max((abs(v) for v in (f - g).ravel()), default=Fraction(0))


class _ExactEffective(LayeredCNN):
    """The pruned network through its exact effective kernels (Eq. 2), exact only."""

    def __init__(self, pruned: PrunedCNN) -> None:
        self.layers = pruned.layers
        self.final_relu = pruned.final_relu
        self._L = [(L.effective_kernel(exact=True), L.effective_bias(exact=True))
                   for L in pruned.layers]

    def _pre(self, i: int, X: np.ndarray, exact: bool) -> np.ndarray:
        L, b = self._L[i]
        P = self.layers[i]
        Z = conv2d_exact(L, X, padding=P.padding, stride=P.stride)
        return Z if b is None else Z + b


def rounded_effective_network(pruned: PrunedCNN) -> TargetCNN:
    """The effective network (Eq. 2) with kernels and biases summed exactly, then rounded
    to the nearest float64: the float model used to *search* for bad inputs (every
    candidate is replayed exactly).  Unlike ``pruned.effective_network()`` it does not
    lose cancelling summands (trained-size weights make that real)."""
    def rnd(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.vectorize(float, otypes=[float])(a)

    return TargetCNN([ConvLayer(rnd(L.effective_kernel(exact=True)),
                                bias=rnd(L.effective_bias(exact=True)), padding=L.padding,
                                stride=L.stride, pool=L.pool) for L in pruned.layers],
                     final_relu=pruned.final_relu)


def exact_effective_forward(pruned: PrunedCNN, X: np.ndarray) -> np.ndarray:
    """Exact forward pass through the exact effective kernels (see :func:`exact_error`)."""
    return _ExactEffective(pruned).forward_exact(X)


# ------------------------------------------------------------------ interval bounds

def _down(x: np.ndarray) -> np.ndarray:
    return np.nextafter(x, -np.inf)


def _up(x: np.ndarray) -> np.ndarray:
    return np.nextafter(x, np.inf)


def round_up(x: np.ndarray | float) -> np.ndarray | float:
    """The next float64 above ``x`` (entrywise): an upper bound of any quantity whose
    round-to-nearest value is ``x`` (public for callers that combine bounds)."""
    return _up(x)


def _conv_up(W: np.ndarray, X: np.ndarray, padding: str, stride: int) -> np.ndarray:
    """Sound upper bound of ``W * X`` for entrywise non-negative float W and X.

    The computed sum of non-negative products is within ``gamma_m`` (relative)
    of the exact one plus ``m eta`` for gradual underflow (Higham, eq. 3.5);
    the factor 2 covers the rounding of the bound itself.
    """
    c = conv2d(W, X, padding=padding, stride=stride)
    m = W.shape[0] * W.shape[1] * W.shape[2]
    g = float(gamma(m + 1)) * 2
    return _up(_up(c * (1 + g)) + 2 * m * ETA)


def matmul_enclosure(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(A @ B, r)`` in float64 with ``|A @ B - exact| <= r`` entrywise (sound).

    Any summation order (BLAS blocking, FMA) satisfies
    ``|fl(a.b) - a.b| <= gamma_n |a|.|b| + n eta`` for a dot product of length
    n with gradual underflow (Higham, eq. 3.5, plus one ``eta`` per product).
    ``|A| @ |B|`` is itself computed with a relative error below ``gamma_n`` and
    the factor 2 and the outward steps cover it.  Used for the effective kernels
    and biases of Eq. 2, where trained weights (``||K||_1`` up to 1.5e4 in the
    paper) make cancellation real: the float64 product alone is no bound.
    """
    P = A @ B
    n = A.shape[-1]
    g = float(gamma(n + 2)) * 2
    r = _up(_up((np.abs(A) @ np.abs(B)) * _up(g)) + 4 * (n + 1) * ETA)
    return P, r


def _avg_pool_enclosure(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sound enclosure of 2x2 average pooling of any array between ``lo`` and ``hi``.

    Average pooling is monotone; its float64 value (a sum of 4, then ``/ 4``) is
    within ``gamma_3`` of the exact sum of magnitudes over 4, plus ``eta`` for a
    subnormal quotient.
    """
    mag = pool2d(np.maximum(np.abs(lo), np.abs(hi)), "avg")
    slack = _up(_up(mag * float(gamma(4)) * 2) + 4 * ETA)
    return _down(_down(pool2d(lo, "avg")) - slack), _up(_up(pool2d(hi, "avg")) + slack)


def interval_conv(W: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, padding: str = "paper",
                  stride: int = 1, W_rad: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Sound enclosure of ``W' * X`` for ``lo <= X <= hi`` and ``|W' - W| <= W_rad``.

    Centre/radius form; every rounding (Higham's ``gamma_m`` per output, the
    underflow term, the centre and radius themselves) is covered by outward
    widening, so the true ``W' * X`` lies in ``[lo', hi']`` for every X in the
    box and every kernel within ``W_rad`` of ``W`` (``W_rad`` covers a kernel
    that is only known up to its own rounding, as the effective kernels are).
    """
    mid = lo / 2 + hi / 2
    rad = _up(np.maximum(hi - mid, mid - lo))
    rad = _up(rad * (1 + 2**-50))
    aW = np.abs(W)
    c = conv2d(W, mid, padding=padding, stride=stride)
    r = conv2d(aW, rad, padding=padding, stride=stride)
    a = conv2d(aW, np.abs(mid), padding=padding, stride=stride)
    m = W.shape[0] * W.shape[1] * W.shape[2]
    g = float(gamma(m + 2)) * 2
    slack = _up(_up(r * (1 + g)) + _up(a * g) + 4 * m * ETA)
    if W_rad is not None:
        mag = np.maximum(np.abs(lo), np.abs(hi))
        slack = _up(slack + _conv_up(W_rad, mag, padding, stride))
    return _down(c - slack), _up(c + slack)


def _interval_post(lo, hi, bias, relu_on, pool, bias_rad=None):
    if bias is not None:
        lo, hi = _down(lo + bias), _up(hi + bias)
        if bias_rad is not None:
            lo, hi = _down(lo - bias_rad), _up(hi + bias_rad)
    if relu_on:
        lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
    if pool == "max":
        lo, hi = pool2d(lo, "max"), pool2d(hi, "max")
    elif pool == "avg":
        lo, hi = _avg_pool_enclosure(lo, hi)
    return lo, hi


def interval_target(target: TargetCNN, D: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Interval bounds of every layer output of f on X in [0, 1]^{D x D x c0}."""
    lo, hi = np.zeros((D, D, target.c0)), np.ones((D, D, target.c0))
    out = []
    for i, L in enumerate(target.layers):
        lo, hi = interval_conv(L.K, lo, hi, padding=L.padding, stride=L.stride)
        lo, hi = _interval_post(lo, hi, L.bias, i < target.ell - 1 or target.final_relu, L.pool)
        out.append((lo, hi))
    return out


def effective_enclosure(layer: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None,
                                              np.ndarray | None]:
    """Float64 effective kernel and bias of a pruned layer (Eq. 2) with sound radii.

    Returns ``(L, L_rad, b, b_rad)``: the exact ``sum_t V T U S`` lies within
    ``L_rad`` of ``L`` entrywise (:func:`matmul_enclosure`), likewise the bias.
    """
    US = np.where(layer.S, layer.U, 0.0)
    VT = np.where(layer.T, layer.V, 0.0)[0, 0]
    L, L_rad = matmul_enclosure(US, VT)
    b = b_rad = None
    if layer.Ub is not None:
        b, b_rad = matmul_enclosure(np.where(layer.Sb, layer.Ub, 0.0)[None], VT)
        b, b_rad = b[0], b_rad[0]
    return L, L_rad, b, b_rad


def interval_pruned(pruned: PrunedCNN, D: int, c0: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Interval bounds of every emulated layer output of g on X in [0, 1].

    For a linearisable network the effective network is propagated (equal to
    g on X >= 0 by Eq. 1-2, and much tighter than the two random layers), with
    the rounding of its float64 kernels and biases covered by their radii
    (:func:`effective_enclosure`).
    """
    lo, hi = np.zeros((D, D, c0)), np.ones((D, D, c0))
    out = []
    lin = pruned.linearisable()
    for i, L in enumerate(pruned.layers):
        last_relu = i < pruned.ell - 1 or pruned.final_relu
        if lin:
            W, W_rad, b, b_rad = effective_enclosure(L)
            lo, hi = interval_conv(W, lo, hi, padding=L.padding, stride=L.stride, W_rad=W_rad)
            lo, hi = _interval_post(lo, hi, b, last_relu, L.pool, b_rad)
        else:
            US = np.where(L.S, L.U, 0.0)
            VT = np.where(L.T, L.V, 0.0)
            lo, hi = interval_conv(US, lo, hi, padding=L.padding, stride=L.stride)
            ub = None if L.Ub is None else np.where(L.Sb, L.Ub, 0.0)
            lo, hi = _interval_post(lo, hi, ub, True, None)
            lo, hi = interval_conv(VT, lo, hi)
            lo, hi = _interval_post(lo, hi, None, last_relu, L.pool)
        out.append((lo, hi))
    return out


def interval_bound(boxes_f: list, boxes_g: list) -> float:
    """Sound upper bound of ``||f - g||_max`` from the last layers' enclosures."""
    (flo, fhi), (glo, ghi) = boxes_f[-1], boxes_g[-1]
    return float(np.max(np.maximum(_up(fhi - glo), _up(ghi - flo))))


# ------------------------------------------------------------------ proof recursion

def proof_bound(target: TargetCNN, pruned: PrunedCNN, D: int,
                pruned_boxes: list | None = None) -> dict[str, Any]:
    """The bound of Theorem 1's proof, computed on the instance (exact rationals).

    Returns per layer ``A_i = max_l ||K_{i,l}||_1``, ``M_i`` (bound on
    ``||X~^i||_max``, the layer's input), ``err_i`` (exact sup error of the
    layer alone on ``[0, M_i]``) and ``e_i`` (bound on ``||X^i - X~^i||``),
    and ``bound`` = the final ``e``.  Needs a linearisable pruned network.
    """
    if not pruned.linearisable():
        raise ValueError("pruned: the proof bound needs every kept entry of U to be >= 0")
    boxes = pruned_boxes or interval_pruned(pruned, D, target.c0)
    e, M = Fraction(0), Fraction(1)
    size = D
    rows = []
    for i, (K, P) in enumerate(zip(target.layers, pruned.layers)):
        Kf = to_fraction(K.K)
        A = max(sum((abs(v) for v in Kf[..., l].ravel()), start=Fraction(0))
                for l in range(K.c1))
        err, _, _ = layer_sup_error(K.K, P.effective_kernel(exact=True), size, M=M,
                                    db=bias_gap(K, P),
                                    padding=K.padding, stride=K.stride)
        e = A * e + err
        rows.append({"layer": i + 1, "A": A, "M": M, "err": err, "e": e})
        hi = boxes[i][1]
        M = Fraction(float(np.max(hi))) if hi.size else Fraction(0)
        size = output_size(size, K.d, K.padding, K.stride)
        if K.pool is not None:
            size //= 2
    return {"layers": rows, "bound": e}


# ------------------------------------------------------------------ entrywise recursion

def _frac_up(a: np.ndarray) -> np.ndarray:
    """Float64 upper bounds of an object array of Fractions (entrywise, sound)."""
    flat = [float(v) for v in a.ravel()]
    out = np.array(flat, dtype=np.float64).reshape(a.shape)
    below = np.array([Fraction(f) < v for f, v in zip(flat, a.ravel())]).reshape(a.shape)
    return np.where(below, _up(out), out)


def entrywise_bound(target: TargetCNN, pruned: PrunedCNN, D: int,
                    pruned_boxes: list | None = None) -> float:
    """Theorem 1's error recursion carried out entry by entry (sound, float64 upward).

    With ``e^i`` an entrywise bound on ``|X^i - X~^i|`` and ``h^i`` the interval
    upper bound on ``X~^i >= 0``: ``e^{i+1} = pool(|K_i| * e^i + max((K_i - L_i)^+ * h^i
    + db, (K_i - L_i)^- * h^i - db))`` (ReLU and pooling are entrywise/windowwise
    1-Lipschitz).  ``K_i - L_i`` is formed exactly and rounded upward.  Needs a
    linearisable pruned network.  Returns the bound on ``||f(X) - g(X)||_max``.
    """
    if not pruned.linearisable():
        raise ValueError("pruned: the entrywise bound needs every kept entry of U to be >= 0")
    boxes = pruned_boxes or interval_pruned(pruned, D, target.c0)
    e = np.zeros((D, D, target.c0))
    h = np.ones((D, D, target.c0))
    for i, (K, P) in enumerate(zip(target.layers, pruned.layers)):
        Epos, Eneg = (_frac_up(part) for part in error_parts(K.K,
                                                              P.effective_kernel(exact=True)))
        up = _conv_up(Epos, h, K.padding, K.stride)
        down = _conv_up(Eneg, h, K.padding, K.stride)
        db = bias_gap(K, P)
        if db is not None:
            up = _up(up + _frac_up(db))
            down = _up(down + _frac_up(-db))
        err = np.maximum(up, down)
        e = _up(_conv_up(np.abs(K.K), e, K.padding, K.stride) + err)
        if K.pool == "max":
            e = pool2d(e, "max")
        elif K.pool == "avg":
            e = _avg_pool_enclosure(e, e)[1]
        h = np.maximum(boxes[i][1], 0.0)
    return float(np.max(e))


# ------------------------------------------------------------------ lower bound search

def _float_errors(target: TargetCNN, g_net, Xb: np.ndarray) -> np.ndarray:
    diff = target.forward(Xb) - g_net.forward(Xb)
    return np.abs(diff).reshape(len(Xb), -1).max(axis=1)


def search_lower(target: TargetCNN, pruned: PrunedCNN, D: int, *, rng: Any = 0,
                 restarts: int = 4, max_rounds: int = 20,
                 starts: list[np.ndarray] | None = None) -> np.ndarray:
    """Greedy local search over the vertices of [0, 1]^{D x D x c0} (float64).

    Each round evaluates every single-coordinate flip in one batch and moves
    to the best; returns the best input found (to be replayed exactly).
    """
    gen = np.random.default_rng(rng)
    g_net = rounded_effective_network(pruned) if pruned.linearisable() else pruned
    c0 = target.c0
    cands = list(starts or []) + [np.zeros((D, D, c0)), np.ones((D, D, c0))]
    cands += [(gen.random((D, D, c0)) < 0.5).astype(float) for _ in range(restarts)]
    best_X, best_v = None, -1.0
    nvar = D * D * c0
    eye = np.eye(nvar, dtype=bool).reshape(nvar, D, D, c0)
    for X in cands:
        v = float(_float_errors(target, g_net, X[None])[0])
        for _ in range(max_rounds):
            flips = np.where(eye, 1.0 - X[None], X[None])
            vals = _float_errors(target, g_net, flips)
            j = int(np.argmax(vals))
            if vals[j] <= v:
                break
            X, v = flips[j], float(vals[j])
        if v > best_v:
            best_X, best_v = X, v
    return best_X


# ------------------------------------------------------------------ MILP

def _affine_matrix(fn, n_in: int, shape_in: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Matrix and offset of an affine map given as a function on arrays."""
    b = np.asarray(fn(np.zeros(shape_in))).ravel()
    cols = [np.asarray(fn(e.reshape(shape_in))).ravel() - b for e in np.eye(n_in)]
    return np.array(cols).T, b


def _net_affine_layers(net: TargetCNN, D: int) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """(A, b, relu) per layer, avg pooling folded into the map; max pooling refused."""
    layers, shape = [], (D, D, net.c0)
    for i, L in enumerate(net.layers):
        if L.pool == "max":
            raise ValueError("method: 'milp' does not encode max pooling")

        def fn(X, L=L):
            Z = conv2d(L.K, X, padding=L.padding, stride=L.stride)
            if L.bias is not None:
                Z = Z + L.bias
            return Z

        n_in = int(np.prod(shape))
        A, b = _affine_matrix(fn, n_in, shape)
        out_shape = fn(np.zeros(shape)).shape
        relu_on = i < net.ell - 1 or net.final_relu
        if L.pool == "avg":
            if relu_on:
                layers.append((A, b, True))
                P, pb = _affine_matrix(lambda Z: pool2d(Z, "avg"), A.shape[0], out_shape)
                shape = pool2d(np.zeros(out_shape), "avg").shape
                layers.append((P, pb, False))
                continue
            P, _ = _affine_matrix(lambda Z: pool2d(Z, "avg"), A.shape[0], out_shape)
            A, b = P @ A, P @ b
            out_shape = pool2d(np.zeros(out_shape), "avg").shape
        layers.append((A, b, relu_on))
        shape = out_shape
    return layers


def milp_worst_case(target: TargetCNN, pruned: PrunedCNN, D: int, *, lower: float = 0.0,
                    time_limit: float | None = None, node_limit: int | None = 20_000,
                    order: np.ndarray | None = None) -> tuple[np.ndarray | None, float, dict]:
    """Worst case of ``||f - g||_max`` by MILP; returns (witness, objective, info).

    One MILP maximises ``t <= s_j (f_j - g_j)`` over the inputs, the ReLU
    phases (big-M with interval bounds) and a one-hot choice of the output
    entry j and sign s; ``t >= lower`` prunes what a known witness already
    attains.  ``info["complete"]`` is True when HiGHS ended optimal within
    ``node_limit`` branch-and-bound nodes (a deterministic work limit: the same
    answer on a loaded machine) and ``time_limit`` seconds (None: no wall-clock
    limit): only then is the objective the MILP worst case (a float, never used
    as a sound bound).
    """
    import time as _time

    t_start = _time.perf_counter()
    from scipy.optimize import Bounds, LinearConstraint, milp

    from .rss.milp import _quiet_stdout

    if not pruned.linearisable():
        raise ValueError("pruned: 'milp' encodes the effective network; it needs a "
                         "linearisable pruned network")
    nets = [_net_affine_layers(target, D), _net_affine_layers(rounded_effective_network(pruned), D)]
    n0 = D * D * target.c0
    # variables: x (n0) then, per network and relu layer, y (k) and z (k)
    nvar = n0
    plan = []  # per network: list of (A, b, relu, y_start, z_start)
    for layers in nets:
        lo, hi = np.zeros(n0), np.ones(n0)
        p = []
        for A, b, r in layers:
            Ap, An = np.maximum(A, 0), np.minimum(A, 0)
            plo = Ap @ lo + An @ hi + b
            phi = Ap @ hi + An @ lo + b
            pad = 1e-9 * (1 + np.abs(plo) + np.abs(phi))
            plo, phi = plo - pad, phi + pad
            if r:
                k = A.shape[0]
                p.append((A, b, True, nvar, nvar + k, plo, phi))
                nvar += 2 * k
                lo, hi = np.maximum(plo, 0), np.maximum(phi, 0)
            else:
                p.append((A, b, False, None, None, plo, phi))
                lo, hi = plo, phi
        plan.append(p)
    rows, lbs, ubs = [], [], []
    integrality = np.zeros(nvar)
    vlo, vhi = np.zeros(nvar), np.ones(nvar)
    outs = []
    for p in plan:
        prev = np.zeros((n0, nvar))
        prev[:, :n0] = np.eye(n0)
        prev_b = np.zeros(n0)
        for A, b, r, ys, zs, plo, phi in p:
            expr, expr_b = A @ prev, A @ prev_b + b  # pre-activation = expr . v + expr_b
            if not r:
                prev, prev_b = expr, expr_b
                continue
            k = A.shape[0]
            for j in range(k):
                y, z = ys + j, zs + j
                integrality[z] = 1
                vlo[y], vhi[y] = 0.0, max(phi[j], 0.0)
                row = -expr[j].copy()
                row[y] += 1  # y - a >= 0
                rows.append(row)
                lbs.append(expr_b[j])
                ubs.append(np.inf)
                row = -expr[j].copy()  # y - a + l(1 - z) <= 0  ->  y - a - l z <= -l
                row[y] += 1
                row[z] -= plo[j]
                rows.append(row)
                lbs.append(-np.inf)
                ubs.append(expr_b[j] - plo[j])
                row = np.zeros(nvar)  # y - u z <= 0
                row[y] = 1
                row[z] = -max(phi[j], 0.0)
                rows.append(row)
                lbs.append(-np.inf)
                ubs.append(0.0)
            prev = np.zeros((k, nvar))
            prev[np.arange(k), np.arange(ys, ys + k)] = 1
            prev_b = np.zeros(k)
        outs.append((prev, prev_b))
    (Fm, Fb), (Gm, Gb) = outs
    Dm, Db = Fm - Gm, Fb - Gb
    # one MILP: maximise t with t <= s_j (f_j - g_j) + B (1 - w_js), sum w = 1
    m_out = Dm.shape[0]
    fl, fh = plan[0][-1][5], plan[0][-1][6]
    gl, gh = plan[1][-1][5], plan[1][-1][6]
    B = 2.0 * float(np.max(np.maximum(fh - gl, gh - fl))) + 1.0
    t_idx = nvar
    w0 = nvar + 1
    total = nvar + 1 + 2 * m_out
    ext = lambda M: np.hstack([M, np.zeros((M.shape[0], total - nvar))])  # noqa: E731
    A_all = [ext(np.array(rows))] if rows else []
    lb_all, ub_all = list(lbs), list(ubs)
    for j in range(m_out):
        for k, sgn in enumerate((1.0, -1.0)):
            row = np.zeros(total)  # t - s (Dm v) + B w <= s Db + B
            row[:nvar] = -sgn * Dm[j]
            row[t_idx] = 1.0
            row[w0 + 2 * j + k] = B
            A_all.append(row[None])
            lb_all.append(-np.inf)
            ub_all.append(sgn * Db[j] + B)
    row = np.zeros(total)
    row[w0:] = 1.0
    A_all.append(row[None])
    lb_all.append(1.0)
    ub_all.append(1.0)
    integ = np.r_[integrality, 0, np.ones(2 * m_out)]
    blo = np.r_[vlo, lower, np.zeros(2 * m_out)]
    bhi = np.r_[vhi, B, np.ones(2 * m_out)]
    c = np.zeros(total)
    c[t_idx] = -1.0
    opts: dict[str, Any] = {"disp": False, "mip_rel_gap": 1e-9}
    if time_limit is not None:
        opts["time_limit"] = float(time_limit)
    if node_limit is not None:
        opts["node_limit"] = int(node_limit)
    with _quiet_stdout():
        res = milp(c, constraints=LinearConstraint(np.vstack(A_all), lb_all, ub_all),
                   integrality=integ, bounds=Bounds(blo, bhi),
                   options=opts)
    best_x, best_val = None, lower
    if res.x is not None:
        vals = Dm @ res.x[:nvar] + Db
        best_val = float(np.max(np.abs(vals)))
        best_x = res.x[:n0].copy()
    complete = res.status == 0
    solved, statuses = 1, {int(res.status)}
    X = None if best_x is None else np.clip(best_x, 0, 1).reshape(D, D, target.c0)
    return X, best_val, {"milps": solved, "statuses": sorted(statuses), "variables": total,
                         "complete": bool(complete),
                         "nodes": int(getattr(res, "mip_node_count", -1)),
                         "seconds": _time.perf_counter() - t_start}


def _vertex_round(X: np.ndarray) -> list[np.ndarray]:
    """The witness and, when it is within 1e-6 of a vertex, the vertex itself."""
    out = [X]
    R = np.round(X)
    if np.max(np.abs(R - X)) < 1e-6:
        out.append(R)
    return out


# ------------------------------------------------------------------ entry point

def _check_sup_error_size(target: TargetCNN, pruned: PrunedCNN, D: int) -> None:
    """Refuse, before allocating, a certificate whose search or exact replay cannot fit.

    The vertex search evaluates all ``D*D*c0`` single flips in one batch, each a
    forward pass with up to ``D*D*width`` floats per layer; the exact replay holds
    ``D*D*width`` Fractions (``width`` the widest layer; the random layers' samples
    count when the search cannot use the effective network).
    """
    nvar = D * D * target.c0
    width = max([target.c0] + [L.c1 for L in target.layers])
    if not pruned.linearisable():  # searched and replayed through the random layers
        width = max([width] + [P.n for P in pruned.layers])
    hint = f"D={D}, c0={target.c0}, widest layer {width}"
    check_size("D", 8 * nvar * D * D * width * 2, what="this sup_error's vertex search",
               hint=hint)
    check_entries("D", D * D * width * 2, what="this sup_error's exact replay", hint=hint)


def sup_error(target: TargetCNN, pruned: PrunedCNN, *, D: int, method: str = "auto",
              rng: Any = 0, replay: str = "auto", milp_time_limit: float | None = None,
              milp_node_limit: int | None = 20_000) -> Certificate:
    """Certify ``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max``.

    ``method``: ``"auto"`` (closed form when it applies, else bounds, plus
    MILP for small instances), ``"closed-form"``, ``"bounds"`` or ``"milp"``.
    ``replay``: ``"pruned"`` (the actual pruned network, exact), ``"effective"``
    (exact effective kernels; equal on X >= 0 for linearisable networks) or
    ``"auto"`` (pruned when small).  ``milp_node_limit`` (deterministic) and
    ``milp_time_limit`` (seconds, None for none) bound the MILP's work; an
    incomplete MILP only weakens ``lower``, never the soundness of ``upper``.
    """
    check_pair(target, pruned)
    if isinstance(D, bool) or not isinstance(D, (int, np.integer)) or D < 1:
        raise ValueError(f"D: expected a positive integer input size, got {D!r}")
    if method not in ("auto", "closed-form", "bounds", "milp"):
        raise ValueError(f"method: expected 'auto', 'closed-form', 'bounds' or 'milp', "
                         f"got {method!r}")
    _check_sup_error_size(target, pruned, int(D))
    lin = pruned.linearisable()
    one = target.ell == 1 and target.layers[0].pool is None and not target.final_relu
    if replay == "auto":
        replay = "pruned" if sum(L.U.size for L in pruned.layers) * D * D <= 200_000 \
            else ("effective" if lin else "pruned")

    def replayed(X: np.ndarray) -> Fraction:
        return exact_error(target, pruned, X, via=replay)

    if method == "closed-form" or (method == "auto" and one and lin):
        if not (one and lin):
            raise ValueError("method: 'closed-form' needs one layer without pooling and a "
                             "linearisable pruned layer (kept U entries >= 0)")
        K, P = target.layers[0], pruned.layers[0]
        val, idx, X = layer_sup_error(K.K, P.effective_kernel(exact=True), D, db=bias_gap(K, P),
                                      padding=K.padding, stride=K.stride)
        rep = replayed(X)
        if rep != val:  # the identity of Eq. 1-2 failed: never claim exactness then
            return Certificate(rep, None, False, X, "closed-form",
                               {"closed_form": val, "problem": "witness replay differs"})
        return Certificate(val, val, True, X, "closed-form", {"index": idx})
    details = upper_bounds(target, pruned, D)
    upper = Fraction(details["interval_bound"])
    for name in ("proof_bound_exact", "entrywise_bound"):
        if name in details:
            upper = min(upper, Fraction(details[name]))
    details.pop("proof_bound_exact", None)
    starts = []
    if lin:
        K, P = target.layers[0], pruned.layers[0]
        _, _, X0 = layer_sup_error(K.K, P.effective_kernel(), D, padding=K.padding,
                                   stride=K.stride)
        starts.append(X0)
    X = search_lower(target, pruned, D, rng=rng, starts=starts)
    lower, witness, used = replayed(X), X, "bounds"
    hidden = [int(np.prod(b[0].shape)) for b in details.pop("_boxes_f")[:-1]]
    small = D * D * target.c0 <= 50 and sum(hidden) <= 32  # the MILP grows fast past this
    no_max = all(L.pool != "max" for L in target.layers)
    if method == "milp" or (method == "auto" and small and lin and no_max):
        g_net = rounded_effective_network(pruned)
        per_entry = np.abs(target.forward(X) - g_net.forward(X)).ravel()
        Xm, val, info = milp_worst_case(target, pruned, D, lower=float(lower),
                                        time_limit=milp_time_limit,
                                        node_limit=milp_node_limit, order=np.argsort(-per_entry))
        details["milp_value"] = val
        details["milp"] = info
        used = "milp"
        if Xm is not None:
            for cand in _vertex_round(Xm):
                r = replayed(cand)
                if r > lower:
                    lower, witness = r, cand
    if lower > upper:  # a sound upper bound below an exactly replayed error: a bug here
        raise CertificationError(
            f"internal error: the certified upper bound {float(upper):.17g} lies below the "
            f"exactly replayed error {float(lower):.17g} (details: "
            f"{ {k: v for k, v in details.items() if k.endswith('_bound')} })")
    return Certificate(lower, upper, lower == upper, witness, used, details)


def upper_bounds(target: TargetCNN, pruned: PrunedCNN, D: int) -> dict[str, Any]:
    """Every sound upper bound of ``sup_{X in [0,1]} ||f(X) - g(X)||_max`` that applies.

    Keys: ``interval_bound`` (always), and for linearisable pruned networks
    ``proof_bound`` (float, rounded up), ``proof_bound_exact`` (Fraction),
    ``proof_layers`` and ``entrywise_bound``; ``upper`` is the smallest
    (a float64 rounded upward: a sound bound).  The facade :func:`sup_error`
    and the reproduction combine them through this one function.
    """
    check_pair(target, pruned)
    boxes_f = interval_target(target, D)
    boxes_g = interval_pruned(pruned, D, target.c0)
    out: dict[str, Any] = {"interval_bound": interval_bound(boxes_f, boxes_g)}
    candidates = [Fraction(out["interval_bound"])]
    if pruned.linearisable():
        pb = proof_bound(target, pruned, D, boxes_g)
        out["proof_bound_exact"] = pb["bound"]
        out["proof_bound"] = float(_frac_up(np.array([pb["bound"]], dtype=object))[0])
        out["proof_layers"] = [{k: (float(v) if isinstance(v, Fraction) else v)
                                for k, v in r.items()} for r in pb["layers"]]
        candidates.append(pb["bound"])
        out["entrywise_bound"] = entrywise_bound(target, pruned, D, boxes_g)
        candidates.append(Fraction(out["entrywise_bound"]))
    out["upper"] = float(_frac_up(np.array([min(candidates)], dtype=object))[0])
    out["_boxes_f"] = boxes_f
    return out
