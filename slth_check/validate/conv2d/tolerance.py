"""The precision and tolerance model of the conv2d validator, and its exact decision.

A user's output entry is accepted when it lies within ``T`` (below) of the exact
value of Definition 1; :func:`check_image` decides it exactly.  Used by
:mod:`slth_check.validate.conv2d.core`.

**Tolerance** (:func:`tolerance`): what it admits.  With ``u`` the unit
roundoff of the precision, ``lam`` its smallest normal, ``m = d*d*c0``,
``A = |K|*|X|`` (exact), per output entry ``(i, j, l)`` of image ``X_n``:

``T = gamma_m(u) A  +  W(D, d, c0) ||K_l||_1 ||X_n||_max  +  Z  +  rtol A``

* componentwise, ``gamma_m(u) A``: every direct summation of the ``m``
  products, in any order, blocked, pairwise, with or without FMA, with or
  without a wider accumulator and a final rounding (Higham, "Accuracy and
  Stability of Numerical Algorithms", 2nd ed., eq. (3.5) and §3.1);
* normwise, on the scale of Proposition 1 (``||K_l||_1 ||X||_max`` bounds the
  output): FFT convolutions (and other fast, normwise-stable algorithms).
  Higham, Theorem 24.2: a radix-2 FFT of length ``n = 2^t`` computed with
  twiddle factors of error ``mu`` satisfies ``||y^ - y||_2 <= t eta / (1 - t
  eta) ||y||_2`` with ``eta = mu + gamma_4 (sqrt 2 + mu)`` (about ``6.7 u``
  for accurate twiddles).  We take ``eta = 10 u`` (room for twiddles good to
  ``3 u``) and ``t = ceil(log2(4 (D + d - 1)^2))`` (an FFT size up to twice
  the linear size per axis, so next-power-of-two and "fast length" padding
  are covered), ``eps_F = t eta / (1 - t eta)``.  Convolving one output
  channel as ``y = F^-1 sum_k F a_k . F b_k`` (``F`` unnormalised, ``F^* F =
  n I``, ``||F v||_inf <= ||v||_1``, complex products within ``sqrt 2
  gamma_2``, Higham Lemma 3.5, and a complex sum of ``c0`` terms within
  ``gamma_c0``) gives to first order ``||y^ - y||_2 <= eps_F sum_k ||a_k||_2
  ||b_k||_1 + (2 eps_F + sqrt 2 gamma_2 + gamma_c0) sum_k ||a_k||_1
  ||b_k||_2``; with ``||b_k||_1 <= D^2 ||X||_max``, ``||b_k||_2 <= D
  ||X||_max``, ``||a_k||_2 <= ||a_k||_1`` and ``||.||_max <= ||.||_2``:

  ``W = 2 [eps_F D^2 + (2 eps_F + (3/2) gamma_2 + gamma_c0) D]``

  where the factor 2 covers the second-order terms (``eps_F <= 1/4`` is
  required), mixed-radix and Bluestein transforms (pocketfft, FFTW, cuFFT),
  and real-input FFTs, whose bounds have the same shape with somewhat larger
  constants: for those it is a documented allowance, not a proof.  Summing
  per input channel in the spatial domain instead is covered by the same
  ``gamma_c0`` term.  For ``float16`` and ``bfloat16`` the transforms are
  assumed to run in float32 (as cuDNN and PyTorch do): a half-precision FFT
  has a normwise error larger than the output itself at these sizes, so no
  test could tell it from a wrong result, and it is not admitted.  Winograd
  convolutions have normwise bounds of the same shape (Barabasz et al., ACM
  TOMS 46(4), 2020) whose constants grow with the tile size; they are not
  covered by a proof here (F(2x2, 3x3) in float32 passes in the zoo,
  ``tests/adversarial/conv_zoo.py``: an observation, not a proof).
* underflow, ``Z = 2 (m + 1) lam (1 + gamma_m) + 64 n (t + 1) lam_F (1 +
  ||K_l||_1)(1 + ||X_n||_max)`` with ``n = 4 (D + d - 1)^2``: each product
  or sum that underflows (gradual underflow or flush-to-zero) is off by less
  than ``lam`` (Higham §2.1, model (2.8) with an absolute ``eta <= lam``),
  amplified by at most ``1 + gamma_m`` through the remaining additions; the
  second term is a generous allowance for underflow inside the transforms
  (``lam_F`` of the transform precision), amplified by the other operand's
  norm.  It is ~1e-300 in float64 and only matters for tiny outputs.

``T`` is the *sum* of the terms (a maximum of the terms would do for a pure
algorithm; the sum also admits hybrids, e.g. a float32 FFT rounded to
float16).  The comparison is exact: entries are first screened in float64
with a proven margin (a float reference within ``gamma_m(2^-53)`` of the
exact value), and every entry not clearly inside is decided with Fractions.
``rtol`` adds ``rtol A`` on top (a manual override).  With a stride ``S`` the outputs
are the entries ``S``-apart of the stride-1 output, each with its own ``T``
(an FFT or a direct sum computes them no less accurately).  The tolerance still
separates right from wrong: ``W`` is below 1.8e-12 in float64 and 9.7e-4 in
float32 at the default sizes, so a relative error of 1e-7 on a unit-scale
float64 case exceeds it by more than four orders of magnitude, and a fused
ReLU (an error of the output's own size) in float32 by three.
When a discrepancy is within the tolerance of a lower precision (inputs
rounded to it included), the diagnosis says so ("consistent with float32
arithmetic: did you mean --precision float32?").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from slth_check.arithmetic import ETA, gamma, to_fraction
from slth_check.conv import Padding, conv2d, conv2d_exact, output_size
from slth_check.precision import PRECISIONS, Precision, get_precision


# -- the tolerance model ------------------------------------------------------------
def fft_stages(D: int, d: int) -> int:
    """``t = ceil(log2 n)`` for an FFT of ``n = 4 (D + d - 1)^2`` points (2-D, each
    axis padded to at most twice the linear convolution's length)."""
    n = 4 * (D + d - 1) ** 2
    return (n - 1).bit_length()


def normwise_factor(D: int, d: int, c0: int, precision: str = "float64") -> Fraction:
    """``W = 2 [eps_F D^2 + (2 eps_F + (3/2) gamma_2 + gamma_c0) D]`` (module docs):
    the factor of ``||K_l||_1 ||X||_max`` admitted for FFT-type algorithms."""
    p = get_precision(precision)
    u = p.fft_u
    t = fft_stages(D, d)
    teta = t * 10 * u
    if teta > Fraction(1, 5):
        raise ValueError(f"precision: the FFT bound is vacuous for D={D}, d={d} "
                         f"in {precision} (t eta = {float(teta):.3g} > 1/5)")
    eps = teta / (1 - teta)
    return 2 * (eps * D * D + (2 * eps + Fraction(3, 2) * gamma(2, u) + gamma(c0, u)) * D)


def underflow_term(m: int, D: int, d: int, k1: Fraction, xmax: Fraction,
                   precision: str = "float64") -> Fraction:
    """``Z = 2 (m+1) lam (1 + gamma_m) + 64 n (t+1) lam_F (1 + ||K_l||_1)(1 + ||X||_max)``."""
    p = get_precision(precision)
    n = 4 * (D + d - 1) ** 2
    t = fft_stages(D, d)
    return (2 * (m + 1) * p.lam * (1 + gamma(m, p.u))
            + 64 * n * (t + 1) * p.fft_lam * (1 + k1) * (1 + xmax))


def _abs_frac(a: np.ndarray) -> np.ndarray:
    return np.frompyfunc(abs, 1, 1)(a)


def tolerance(K: np.ndarray, X: np.ndarray, *, padding: Padding = "paper",
              precision: str = "float64", rtol: Fraction = Fraction(0),
              stride: int = 1) -> np.ndarray:
    """The exact per-entry tolerance ``T`` (module docs) for one image ``X`` (D, D, c0):
    an object array of Fractions shaped like ``conv2d(K, X, padding=padding,
    stride=stride)`` (a strided output is a subset of the entries at stride 1, each
    with the same bound)."""
    p = get_precision(precision)
    d, c0 = K.shape[0], K.shape[2]
    D = X.shape[0]
    m = d * d * c0
    Kf, Xf = to_fraction(np.asarray(K, dtype=np.float64)), to_fraction(
        np.asarray(X, dtype=np.float64))
    A = conv2d_exact(_abs_frac(Kf), _abs_frac(Xf), padding=padding, stride=stride)
    k1 = [sum(_abs_frac(Kf[..., l]).ravel(), Fraction(0)) for l in range(K.shape[3])]
    xmax = max(_abs_frac(Xf).ravel(), default=Fraction(0))
    W = normwise_factor(D, d, c0, precision)
    g = gamma(m, p.u) + Fraction(rtol)
    T = np.empty(A.shape, dtype=object)
    for idx in np.ndindex(A.shape):
        l = idx[-1]
        T[idx] = g * A[idx] + W * k1[l] * xmax + underflow_term(m, D, d, k1[l], xmax,
                                                                 precision)
    return T


def tolerance_float(K: np.ndarray, X: np.ndarray, padding: Padding, p: Precision,
                     rtol: float, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Float64 versions of ``T`` and of ``A = |K|*|X|`` (relative error < 1e-12)."""
    d, c0 = K.shape[0], K.shape[2]
    D = X.shape[0]
    m = d * d * c0
    with np.errstate(over="ignore", invalid="ignore"):
        A = conv2d(np.abs(K), np.abs(X), padding=padding, stride=stride)
        k1 = np.abs(K).sum(axis=(0, 1, 2))
        xmax = float(np.abs(X).max())
        W = float(normwise_factor(D, d, c0, p.name))
        Z = np.array([float(underflow_term(m, D, d, Fraction(float(k)), Fraction(xmax),
                                           p.name)) if np.isfinite(k) and np.isfinite(xmax)
                      else math.inf for k in k1])
        T = (float(gamma(m, p.u)) + rtol) * A + W * k1 * xmax + Z
    return T, A


@dataclass
class EntryCheck:
    """Result of comparing one image's output with the exact convolution."""

    ok: bool
    detail: str = ""
    index: tuple | None = None
    error: Fraction | None = None
    bound: Fraction | None = None


def check_image(K: np.ndarray, X: np.ndarray, got: np.ndarray, *, padding: Padding = "paper",
                precision: str = "float64", rtol: float = 0.0, exact: bool = False,
                stride: int = 1) -> EntryCheck:
    """Is every entry of ``got`` within ``tolerance`` of the exact ``K * X`` (with
    ``padding`` and ``stride``)?

    Decided exactly.  A float64 screen accepts entries with
    ``(|got - r| + E_r)(1 + 1e-9) <= T_f (1 - 1e-9)``, where ``r`` is the float64
    reference, ``E_r = 1.01 gamma_m(2^-53) A_f + 2 m 2^-1074`` bounds its error
    (Higham eq. (3.5), ``A_f`` the float64 ``|K|*|X|``, within ``gamma_m`` of
    ``A``) and ``T_f`` is ``T`` in float64 (relative error far below 1e-9 when
    finite).  Unless ``exact``, an entry with ``|got - r| (1 - 1e-9) - E_r > T_f
    (1 + 1e-9)`` is a violation without further ado (``|got - exact| >= |got - r|
    - E_r``); every other entry is compared in Fractions, and with ``exact`` the
    reported error and tolerance are exact values.
    """
    p = get_precision(precision)
    P = output_size(X.shape[0], K.shape[0], padding, stride)
    expected_shape = (P, P, K.shape[3])
    got = np.asarray(got)
    if got.shape != expected_shape:
        return EntryCheck(False, f"output shape {got.shape}, should be {expected_shape}")
    if not np.all(np.isfinite(got)):
        return EntryCheck(False, "output has NaN or Inf")
    K64, X64 = np.asarray(K, dtype=np.float64), np.asarray(X, dtype=np.float64)
    m = K.shape[0] * K.shape[1] * K.shape[2]
    r = conv2d(K64, X64, padding=padding, stride=stride)
    T_f, A_f = tolerance_float(K64, X64, padding, p, rtol, stride)
    with np.errstate(over="ignore", invalid="ignore"):
        E_r = 1.01 * float(gamma(m)) * A_f + 2 * m * float(ETA)
        inside = (np.abs(got - r) + E_r) * (1 + 1e-9) <= T_f * (1 - 1e-9)
    inside &= np.isfinite(T_f) & np.isfinite(r)
    if inside.all():
        return EntryCheck(True)
    if not exact:
        # |got - exact| >= |got - r| - E_r > T: a sound violation without Fractions
        with np.errstate(over="ignore", invalid="ignore"):
            excess = (np.abs(got - r) * (1 - 1e-9) - E_r) / (T_f * (1 + 1e-9))
        excess = np.where(np.isfinite(excess) & np.isfinite(T_f), excess, 0)
        if excess.max() > 1:
            idx = tuple(int(i) for i in np.unravel_index(np.argmax(excess), excess.shape))
            i, j, l = idx
            return EntryCheck(False, f"entry (i, j, l) = ({i}, {j}, {l}) (0-based, paper "
                              f"layout): got {float(got[idx])!r}, should be about "
                              f"{float(r[idx])!r}, error about "
                              f"{float(abs(got[idx] - r[idx])):.6g} > tolerance "
                              f"{float(T_f[idx]):.6g} ({precision})", idx)
    return _decide_exactly(K64, X64, got, inside, padding, precision, rtol, stride)


def _decide_exactly(K64: np.ndarray, X64: np.ndarray, got: np.ndarray, inside: np.ndarray,
                    padding: Padding, precision: str, rtol: float,
                    stride: int) -> EntryCheck:
    """Compare the entries not ``inside`` with the exact value in Fractions: the worst
    violation (largest error / tolerance), or ok."""
    ref = conv2d_exact(K64, X64, padding=padding, stride=stride)
    T = tolerance(K64, X64, padding=padding, precision=precision,
                  rtol=Fraction(float(rtol)), stride=stride)
    g = to_fraction(got.astype(np.float64))
    worst: tuple[Fraction | float, tuple[int, ...], Fraction, Fraction] | None = None
    for idx in zip(*np.nonzero(~inside)):
        err = abs(g[idx] - ref[idx])
        if err > T[idx]:
            ratio = err / T[idx] if T[idx] else math.inf
            if worst is None or ratio > worst[0]:
                worst = (ratio, tuple(int(i) for i in idx), err, T[idx])
    if worst is None:
        return EntryCheck(True)
    _, index, err, bound = worst
    i, j, l = index
    detail = (f"entry (i, j, l) = ({i}, {j}, {l}) (0-based, paper layout): got "
              f"{float(g[index])!r}, exact {float(ref[index])!r}, error "
              f"{float(err):.6g} > tolerance {float(bound):.6g} ({precision})")
    return EntryCheck(False, detail, index, err, bound)


__all__ = ["PRECISIONS", "EntryCheck", "Precision", "check_image", "fft_stages",
           "get_precision", "normwise_factor", "tolerance", "tolerance_float",
           "underflow_term"]
