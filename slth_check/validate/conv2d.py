"""Differential property testing of a user's conv2d against Definition 1.

The function under test is called as ``impl(A, X)`` with NumPy arrays in the
stated layout (``paper``: kernel (d, d, c0, c1) and input (N, D, D, c0);
``torch``: OIHW and NCHW) and must implement the stated operation
(``convolution`` as in Definition 1, or ``cross-correlation`` as PyTorch)
with the stated padding.  It may return a NumPy array, anything
``np.asarray`` accepts, or a torch tensor, of real numbers.

**Isolation** (:mod:`slth_check.validate.sandbox`).  A ``MODULE:ATTR``
implementation (and the built-ins ``scipy``, ``torch``) runs in a worker
process with a per-call ``timeout`` (default 60 s): a hang, ``sys.exit``,
``os._exit``, a crash, or an exception at import are discrepancies of the
implementation, never ``consistent`` and never a crash of slth-check.  A
Python callable passed through the API runs in-process (no timeout).  The
function always receives private C-contiguous copies (non-negative strides)
in the precision's dtype; the reference is computed from the validator's own
untouched arrays, and a function that modifies its input gets its own
discrepancy ("modified its input K in place").

**Generation.**  Hypothesis draws ``d <= max_d`` (5), ``d <= D <= max_D`` (8),
``c0, c1 <= max_channels`` (4), ``N <= max_batch`` (3), in that order, so a
failure shrinks toward (1, 1, 1, 1); entries mix small integers, unit-scale
floats, large values up to ``max_abs`` (1e6; float16: the largest power of two
for which no product or sum can overflow) and tiny values down to
``2**(emin/2)`` of the precision, all zero or *normal* numbers representable
in the precision (no subnormal inputs, so denormals-are-zero hardware
computes on the same values).  For ``bfloat16`` the arrays are float32
holding bfloat16-representable values (NumPy has no bfloat16).

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
``rtol`` adds ``rtol A`` on top (a manual override).  The tolerance still
separates right from wrong: ``W`` is below 1.8e-12 in float64 and 9.7e-4 in
float32 at the default sizes, so a relative error of 1e-7 on a unit-scale
float64 case exceeds it by more than four orders of magnitude, and a fused
ReLU (an error of the output's own size) in float32 by three.
When a discrepancy is within the tolerance of a lower precision (inputs
rounded to it included), the diagnosis says so ("consistent with float32
arithmetic: did you mean --precision float32?").

A mismatch is shrunk to a minimal counterexample, printed with a copy-paste
reproducer and, where one fits, a diagnosis of the usual mistakes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from ..arithmetic import ETA, gamma, to_fraction
from ..conv import PADDINGS, _crop, conv2d, conv2d_exact, output_size
from ..tensors import input_from_torch, input_to_torch
from . import Verdict
from .sandbox import UserCodeFailure, UserFunction, private_copy, real_array

OPS = ("convolution", "cross-correlation")
LAYOUTS = ("paper", "torch")


@dataclass(frozen=True)
class Precision:
    """A floating-point format: unit roundoff ``u``, smallest normal ``lam``,
    largest finite ``fmax``, the dtype handed to the user, the Hypothesis
    float width, and ``u``/``lam`` of the arithmetic assumed for transforms."""

    name: str
    u: Fraction
    lam: Fraction
    emin: int
    fmax: float
    dtype: type
    width: int
    fft_u: Fraction
    fft_lam: Fraction


_F64 = (Fraction(1, 2**53), Fraction(1, 2**1022))
_F32 = (Fraction(1, 2**24), Fraction(1, 2**126))
PRECISIONS: dict[str, Precision] = {
    "float64": Precision("float64", *_F64, -1022, float(np.finfo(np.float64).max),
                         np.float64, 64, *_F64),
    "float32": Precision("float32", *_F32, -126, float(np.finfo(np.float32).max),
                         np.float32, 32, *_F32),
    "float16": Precision("float16", Fraction(1, 2**11), Fraction(1, 2**14), -14, 65504.0,
                         np.float16, 16, *_F32),
    "bfloat16": Precision("bfloat16", Fraction(1, 2**8), Fraction(1, 2**126), -126,
                          float.fromhex("0x1.fep127"), np.float32, 32, *_F32),
}


def _precision(name: str) -> Precision:
    if name not in PRECISIONS:
        raise ValueError(f"precision: expected one of {tuple(PRECISIONS)}, got {name!r}")
    return PRECISIONS[name]


# -- the tolerance model ------------------------------------------------------------
def fft_stages(D: int, d: int) -> int:
    """``t = ceil(log2 n)`` for an FFT of ``n = 4 (D + d - 1)^2`` points (2-D, each
    axis padded to at most twice the linear convolution's length)."""
    n = 4 * (D + d - 1) ** 2
    return (n - 1).bit_length()


def normwise_factor(D: int, d: int, c0: int, precision: str = "float64") -> Fraction:
    """``W = 2 [eps_F D^2 + (2 eps_F + (3/2) gamma_2 + gamma_c0) D]`` (module docs):
    the factor of ``||K_l||_1 ||X||_max`` admitted for FFT-type algorithms."""
    p = _precision(precision)
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
    p = _precision(precision)
    n = 4 * (D + d - 1) ** 2
    t = fft_stages(D, d)
    return (2 * (m + 1) * p.lam * (1 + gamma(m, p.u))
            + 64 * n * (t + 1) * p.fft_lam * (1 + k1) * (1 + xmax))


def _abs_frac(a: np.ndarray) -> np.ndarray:
    return np.frompyfunc(abs, 1, 1)(a)


def tolerance(K: np.ndarray, X: np.ndarray, *, padding: str = "paper",
              precision: str = "float64", rtol: Fraction = Fraction(0)) -> np.ndarray:
    """The exact per-entry tolerance ``T`` (module docs) for one image ``X`` (D, D, c0):
    an object array of Fractions shaped like ``conv2d(K, X, padding=padding)``."""
    p = _precision(precision)
    d, c0 = K.shape[0], K.shape[2]
    D = X.shape[0]
    m = d * d * c0
    Kf, Xf = to_fraction(np.asarray(K, dtype=np.float64)), to_fraction(
        np.asarray(X, dtype=np.float64))
    A = conv2d_exact(_abs_frac(Kf), _abs_frac(Xf), padding=padding)
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


def _tolerance_float(K: np.ndarray, X: np.ndarray, padding: str, p: Precision,
                     rtol: float) -> tuple[np.ndarray, np.ndarray]:
    """Float64 versions of ``T`` and of ``A = |K|*|X|`` (relative error < 1e-12)."""
    d, c0 = K.shape[0], K.shape[2]
    D = X.shape[0]
    m = d * d * c0
    with np.errstate(over="ignore", invalid="ignore"):
        A = conv2d(np.abs(K), np.abs(X), padding=padding)
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


def check_image(K: np.ndarray, X: np.ndarray, got: np.ndarray, *, padding: str = "paper",
                precision: str = "float64", rtol: float = 0.0,
                exact: bool = False) -> EntryCheck:
    """Is every entry of ``got`` within ``tolerance`` of the exact ``K * X``?

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
    p = _precision(precision)
    P = output_size(X.shape[0], K.shape[0], padding)
    expected_shape = (P, P, K.shape[3])
    got = np.asarray(got)
    if got.shape != expected_shape:
        return EntryCheck(False, f"output shape {got.shape}, should be {expected_shape}")
    if not np.all(np.isfinite(got)):
        return EntryCheck(False, "output has NaN or Inf")
    K64, X64 = np.asarray(K, dtype=np.float64), np.asarray(X, dtype=np.float64)
    m = K.shape[0] * K.shape[1] * K.shape[2]
    r = conv2d(K64, X64, padding=padding)
    T_f, A_f = _tolerance_float(K64, X64, padding, p, rtol)
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
    exact = conv2d_exact(K64, X64, padding=padding)
    T = tolerance(K64, X64, padding=padding, precision=precision,
                  rtol=Fraction(float(rtol)))
    g = to_fraction(got.astype(np.float64))
    worst: EntryCheck | None = None
    for idx in zip(*np.nonzero(~inside)):
        err = abs(g[idx] - exact[idx])
        if err > T[idx]:
            ratio = err / T[idx] if T[idx] else math.inf
            if worst is None or ratio > (worst.error / worst.bound if worst.bound else
                                         math.inf):
                worst = EntryCheck(False, "", tuple(int(i) for i in idx), err, T[idx])
    if worst is None:
        return EntryCheck(True)
    i, j, l = worst.index
    worst.detail = (f"entry (i, j, l) = ({i}, {j}, {l}) (0-based, paper layout): got "
                    f"{float(g[worst.index])!r}, exact {float(exact[worst.index])!r}, error "
                    f"{float(worst.error):.6g} > tolerance {float(worst.bound):.6g} "
                    f"({precision})")
    return worst


# -- adapters ---------------------------------------------------------------------
def torch_conv2d(padding: str) -> Callable:
    """``torch.nn.functional.conv2d`` (extra ``torch``) as an OIHW/NCHW cross-correlation
    with the given padding mode's semantics, computed in the arrays' dtype on the CPU."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as exc:
        raise ValueError("--impl torch: PyTorch is not installed (pip install "
                         "'slth-check[torch]', or torch==2.13.0 on this machine)") from exc

    def impl(W: np.ndarray, X: np.ndarray) -> np.ndarray:
        w = torch.from_numpy(private_copy(W))
        x = torch.from_numpy(private_copy(X))
        d = W.shape[-1]
        if padding == "valid":
            return F.conv2d(x, w, padding="valid").numpy()
        if padding == "full":
            return F.conv2d(x, w, padding=d - 1).numpy()
        if padding == "same" and d % 2 == 1:
            return F.conv2d(x, w, padding="same").numpy()
        start, _ = _crop(padding, X.shape[-1], d)
        left, right = d - 1 - start, start if padding == "same" else 0
        return F.conv2d(F.pad(x, (left, right, left, right)), w).numpy()

    return impl


def scipy_conv2d(padding: str) -> Callable:
    """``scipy.signal.convolve`` (method='direct') per channel pair, paper layout."""
    import scipy.signal

    mode = {"paper": "full", "full": "full", "same": "same", "valid": "valid"}[padding]

    def impl(K: np.ndarray, X: np.ndarray) -> np.ndarray:
        def one(x):
            out = np.stack([sum(scipy.signal.convolve(x[:, :, k], K[:, :, k, l], mode=mode,
                                                      method="direct")
                                for k in range(K.shape[2])) for l in range(K.shape[3])],
                           axis=-1)
            return out[:x.shape[0], :x.shape[1]] if padding == "paper" else out
        return np.stack([one(x) for x in X])

    return impl


def _builtin_factory(name: str, padding: str) -> Callable:
    """Factory of the built-ins, loaded in the sandbox worker by name."""
    if name == "torch":
        return torch_conv2d(padding)
    return scipy_conv2d(padding)


def result_to_array(Y: Any) -> np.ndarray:
    """The user's result as a float64 array (see :func:`.sandbox.real_array`)."""
    return real_array(Y)


def to_user_layout(K: np.ndarray, X: np.ndarray, layout: str,
                   op: str) -> tuple[np.ndarray, np.ndarray]:
    """The kernel and input handed to the user, in their layout and operation:
    fresh C-contiguous copies with non-negative strides, in the arrays' dtype."""
    A = K[::-1, ::-1] if op == "cross-correlation" else K
    if layout == "torch":
        return private_copy(A.transpose(3, 2, 0, 1)), private_copy(input_to_torch(X))
    return private_copy(A), private_copy(X)


def from_user_layout(Y: Any, layout: str) -> np.ndarray:
    """The user's output back in the paper layout (N, D', D', c1), as float64."""
    Y = np.asarray(Y, dtype=np.float64)
    return input_from_torch(Y) if layout == "torch" else Y


# -- generation ------------------------------------------------------------------------
def _round_bfloat16(a: Any) -> np.ndarray:
    """Round float32 values to the nearest bfloat16 (ties to even), as float32."""
    b = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return b.astype(np.uint32).view(np.float32)


def _to_precision(a: np.ndarray, p: Precision) -> np.ndarray:
    out = np.asarray(a, dtype=np.float64).astype(p.dtype)
    return _round_bfloat16(out) if p.name == "bfloat16" else out


def default_max_abs(precision: str = "float64", max_d: int = 5,
                    max_channels: int = 4) -> float:
    """1e6, or the largest power of two ``A`` with ``4 m A^2 <= fmax`` (no overflow)."""
    p = _precision(precision)
    m = max_d * max_d * max_channels
    cap = math.sqrt(p.fmax / (4 * m))
    return 1e6 if cap >= 1e6 else float(2 ** math.floor(math.log2(cap)))


def _tiny(p: Precision) -> float:
    """Smallest generated magnitude, ``2**(emin/2)``: products of two stay normal."""
    return math.ldexp(1.0, -((-p.emin) // 2))


def _elements(p: Precision, max_abs: float) -> st.SearchStrategy[float]:
    """One entry: a small integer, a unit-scale float, a large float up to ``max_abs``
    or a tiny one; zero or normal, representable in the precision."""
    kw: dict[str, Any] = dict(allow_nan=False, allow_infinity=False, allow_subnormal=False,
                              width=p.width)
    a = float(max_abs)
    small = min(2.0, a)
    parts = [st.integers(-min(4, int(a)), min(4, int(a))).map(float),
             st.floats(-small, small, **kw),
             st.floats(-a, a, **kw),
             st.builds(lambda s, v: s * v, st.sampled_from([-1.0, 1.0]),
                       st.floats(_tiny(p), max(2.0**-10, 8 * _tiny(p)), **kw))]
    el = st.one_of(*parts)
    if p.name == "bfloat16":
        el = el.map(lambda v: float(_round_bfloat16(v)))
    return el


#: Background kinds of a generated array (0, the shrink target, is "none").
BACKGROUNDS = ("none", "integers", "unit", "wide", "mixed")


def _background(kind: int, seed: int, size: int, p: Precision, max_abs: float) -> np.ndarray:
    """Dense pseudo-random entries of one kind (see :data:`BACKGROUNDS`)."""
    rng = np.random.default_rng(seed)
    ints = rng.integers(-min(4, int(max_abs)), min(4, int(max_abs)) + 1, size).astype(float)
    unit = rng.uniform(-min(2.0, max_abs), min(2.0, max_abs), size)
    lo, hi = math.log2(_tiny(p)), math.log2(max_abs)
    wide = rng.choice([-1.0, 1.0], size) * np.exp2(rng.uniform(lo, hi, size))
    wide = np.clip(wide, -max_abs, max_abs)
    if kind == 0:
        out = np.zeros(size)
    elif kind == 1:
        out = ints
    elif kind == 2:
        out = unit
    elif kind == 3:
        out = wide
    else:
        pick = rng.integers(0, 3, size)
        out = np.choose(pick, [ints, unit, wide])
        out[rng.random(size) < 0.2] = 0.0
    return _to_precision(out, p)


@st.composite
def _array(draw: Any, shape: tuple[int, ...], p: Precision, max_abs: float) -> np.ndarray:
    """A dense pseudo-random background (kind and seed drawn) overwritten by up to
    8 explicit entries: few draws, and shrinks to "no background, few small entries"."""
    size = int(np.prod(shape))
    kind = draw(st.integers(0, len(BACKGROUNDS) - 1))
    seed = draw(st.integers(0, 2**32 - 1)) if kind else 0
    a = _background(kind, seed, size, p, max_abs)
    for i, v in draw(st.lists(st.tuples(st.integers(0, size - 1), _elements(p, max_abs)),
                              max_size=8)):
        a[i] = v
    return a.reshape(shape)


@st.composite
def conv_cases(draw: Any, padding: str = "paper", *, precision: str = "float64",
               max_d: int = 5, max_D: int = 8, max_channels: int = 4, max_batch: int = 3,
               max_abs: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Kernels ``K`` (d, d, c0, c1) and inputs ``X`` (N, D, D, c0) in the precision's
    dtype.  ``d`` is drawn first, then ``D >= d``, ``c0``, ``c1``, ``N``, so failures
    shrink toward (1, 1, 1, 1).  Each array is a dense background of one kind
    (small integers, unit floats, a log-uniform spread from ``2**(emin/2)`` to
    ``max_abs``, or a mix with zeros) overwritten by a few explicit entries
    (module docs); shrinking removes the background and simplifies the entries."""
    p = _precision(precision)
    if max_abs is None:
        max_abs = default_max_abs(precision, max_d, max_channels)
    d = draw(st.integers(1, max_d))
    D = draw(st.integers(d, max(d, max_D)))
    c0 = draw(st.integers(1, max_channels))
    c1 = draw(st.integers(1, max_channels))
    N = draw(st.integers(1, max_batch))
    K = draw(_array((d, d, c0, c1), p, max_abs))
    X = draw(_array((N, D, D, c0), p, max_abs))
    return K, X


# -- diagnosis ---------------------------------------------------------------------------
def _variants(K: np.ndarray, X: np.ndarray, padding: str) -> dict[str, np.ndarray]:
    """Outputs of the usual mistakes, for the diagnosis (paper layout)."""
    d, D = K.shape[0], X.shape[1]
    ref = conv2d(K, X, padding=padding)
    out = {"kernel not flipped (cross-correlation instead of convolution)":
           conv2d(K[::-1, ::-1], X, padding=padding),
           "transposed kernel (spatial axes swapped)": conv2d(K.transpose(1, 0, 2, 3), X,
                                                              padding=padding),
           "ReLU applied to the output (fused activation)": np.maximum(ref, 0)}
    if K.shape[2] > 1:
        out["channel order (input channels reversed)"] = conv2d(K[:, :, ::-1], X,
                                                                padding=padding)
        for k, which in ((0, "first"), (K.shape[2] - 1, "last")):
            Kd = K.copy()
            Kd[:, :, k] = 0
            out[f"one input channel dropped (the {which})"] = conv2d(Kd, X, padding=padding)
    if K.shape[3] > 1:
        out["channel order (output channels reversed)"] = ref[..., ::-1]
    if K.shape[2] == K.shape[3] and K.shape[2] > 1:
        out["channel order (c0 and c1 swapped)"] = conv2d(K.transpose(0, 1, 3, 2), X,
                                                          padding=padding)
    full = conv2d(K, X, padding="full")
    start, length = _crop(padding, D, d)
    for shift in (-1, 1):
        s = start + shift
        if 0 <= s and s + length <= full.shape[1]:
            out[f"padding offset by {shift:+d} (output shifted)"] = full[:, s:s + length,
                                                                         s:s + length]
    if padding in ("paper", "same"):
        # circular boundary: the same crop of the convolution of the periodic input
        Xw = np.pad(X, ((0, 0), (D, D), (D, D), (0, 0)), mode="wrap")
        circ = conv2d(K, Xw, padding="full")
        o = D
        out["wrong boundary (circular instead of zero padding)"] = \
            circ[:, o + start:o + start + length, o + start:o + start + length]
        Xe = np.pad(X, ((0, 0), (d, d), (d, d), (0, 0)), mode="edge")
        edge = conv2d(K, Xe, padding="full")
        out["wrong boundary (edge replication instead of zero padding)"] = \
            edge[:, d + start:d + start + length, d + start:d + start + length]
    return out


def _probe_cases(seed: int, dtype: Any = np.float64) -> list[tuple[np.ndarray, np.ndarray]]:
    """A few generic cases (random values, several channels) that separate the mistakes."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(d, d, c0, c1)).astype(dtype),
             rng.normal(size=(2, D, D, c0)).astype(dtype))
            for d, D, c0, c1 in [(3, 5, 3, 2), (2, 4, 2, 3), (3, 6, 2, 2), (1, 3, 2, 2)]]


def _diagnose(fn: UserFunction, layout: str, op: str, padding: str,
              cases: list[tuple[np.ndarray, np.ndarray]], u: float) -> list[str]:
    """The usual mistakes that reproduce the user's output on every case it gets wrong."""
    candidates: dict[str, bool] = {}
    for K, X in cases:
        A, Xu = to_user_layout(K, X, layout, op)
        try:
            got = from_user_layout(fn.call(A, Xu, during="on a diagnosis probe"), layout)
        except (UserCodeFailure, ValueError):
            return []
        K64, X64 = K.astype(np.float64), X.astype(np.float64)
        expected = conv2d(K64, X64, padding=padding)
        if got.shape != expected.shape:  # reported apart as a shape problem
            continue
        scale = float(np.abs(K64).sum() * np.abs(X64).max()) or 1.0
        atol = max(1e-9, 1e3 * u) * scale

        def close(a: np.ndarray, b: np.ndarray, atol: float = atol) -> bool:
            return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol))

        if close(got, expected):
            continue
        # a mistake that does not apply to a case (one input channel) is not ruled out by it
        for label, v in _variants(K64, X64, padding).items():
            candidates[label] = candidates.get(label, True) and close(v, got)
    return [k for k, ok in candidates.items() if ok]


def _lower_precision(K: np.ndarray, X: np.ndarray, got: np.ndarray, padding: str,
                     precision: str) -> str | None:
    """A lower precision whose tolerance (with inputs rounded to it) explains ``got``."""
    p = _precision(precision)
    K64, X64 = K.astype(np.float64), X.astype(np.float64)
    for q in sorted(PRECISIONS.values(), key=lambda q: q.u):
        if q.u <= p.u:
            continue
        if np.abs(K64).max(initial=0) > q.fmax or np.abs(X64).max(initial=0) > q.fmax:
            continue
        uq = float(q.u)
        try:
            ok = True
            for n in range(X.shape[0]):
                T, A = _tolerance_float(K64, X64[n], padding, q, 0.0)
                err = np.abs(got[n] - conv2d(K64, X64[n], padding=padding))
                if not np.all(err <= 1.01 * (T + (2 * uq + uq * uq) * A)):
                    ok = False
                    break
        except ValueError:  # the bound is vacuous at this size
            continue
        if ok:
            return (f"consistent with {q.name} arithmetic: did you mean "
                    f"--precision {q.name}?")
    return None


def _arr_literal(a: np.ndarray) -> str:
    dt = "" if a.dtype == np.float64 else f", dtype=np.{a.dtype}"
    return f"np.array({np.asarray(a).tolist()!r}{dt})"


def _check_int(name: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"{name}: expected an integer in [{lo}, {hi}], got {v!r}")
    return int(v)


#: Largest d^2 (D + d - 1)^2 c0 c1 N allowed (about 5 s per exact check).
MAX_WORK = 5_000_000


#: Calls of the implementation allowed for shrinking a failure (bounds the run time;
#: the counterexample is then the smallest found within them).
SHRINK_CALLS = 200


@dataclass
class _Problem:
    detail: str
    fatal: bool = False
    got: np.ndarray | None = None


def validate_conv2d(impl: Callable | str, *, layout: str = "paper", op: str = "convolution",
                    padding: str = "paper", max_examples: int = 200,
                    rtol: float | None = None, seed: int = 0, precision: str = "float64",
                    max_d: int = 5, max_D: int = 8, max_channels: int = 4, max_batch: int = 3,
                    max_abs: float | None = None, timeout: float = 60.0) -> Verdict:
    """Differential test of ``impl`` against :func:`slth_check.conv2d` (Definition 1).

    ``impl`` is ``"MODULE:ATTR"`` (run in a sandboxed worker with ``timeout``
    seconds per call), a built-in (``"scipy"``, ``"torch"``), or a Python
    callable (run in-process).  ``precision`` picks the dtype handed to the
    user and the tolerance (module docs); ``rtol`` is added on top;
    ``max_*`` bound the generated shapes and magnitudes.  Returns a
    :class:`~slth_check.validate.Verdict`: ``consistent``, or ``discrepancy``
    with a minimal counterexample, a reproducer and a diagnosis.  Raises
    ValueError for bad arguments or an implementation that cannot be found.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {LAYOUTS}, got {layout!r}")
    if op not in OPS:
        raise ValueError(f"op: expected one of {OPS}, got {op!r}")
    if padding not in PADDINGS:
        raise ValueError(f"padding: expected one of {PADDINGS}, got {padding!r}")
    p = _precision(precision)
    if rtol is not None and not (isinstance(rtol, (int, float)) and rtol >= 0
                                 and np.isfinite(rtol)):
        raise ValueError(f"rtol: expected a finite non-negative number, got {rtol!r}")
    max_examples = _check_int("max_examples", max_examples, 1, 10**6)
    max_d = _check_int("max_d", max_d, 1, 32)
    max_D = _check_int("max_D", max_D, 1, 256)
    max_channels = _check_int("max_channels", max_channels, 1, 64)
    max_batch = _check_int("max_batch", max_batch, 1, 64)
    if padding == "valid" and max_D < max_d:
        raise ValueError(f"max_D: padding 'valid' needs D >= d; got max_D={max_D} < "
                         f"max_d={max_d}")
    work = max_d**2 * (max(max_D, max_d) + max_d - 1) ** 2 * max_channels**2 * max_batch
    if work > MAX_WORK:
        raise ValueError(f"max_d/max_D/max_channels/max_batch: cases of up to d^2 (D+d-1)^2 "
                         f"c0 c1 N = {work} multiply-adds are too slow to check exactly "
                         f"(at most {MAX_WORK})")
    m_max = max_d * max_d * max_channels
    if m_max * p.u > Fraction(1, 2):
        raise ValueError(f"max_d/max_channels: kernels of d*d*c0 = {m_max} terms make the "
                         f"{precision} rounding bound vacuous (m u > 1/2); lower them")
    normwise_factor(max(max_D, max_d), max_d, max_channels, precision)  # not vacuous
    cap = default_max_abs(precision, max_d, max_channels)
    if max_abs is None:
        max_abs = cap
    elif isinstance(max_abs, bool) or not isinstance(max_abs, (int, float)) \
            or not (1 <= max_abs <= cap):
        raise ValueError(f"max_abs: expected a number in [1, {cap:g}] ({precision}: larger "
                         f"values could overflow with d*d*c0 = {m_max}), got {max_abs!r}")
    name = impl if isinstance(impl, str) else getattr(impl, "__qualname__", repr(impl))
    if impl in ("torch", "scipy"):
        if impl == "torch":
            torch_conv2d(padding)  # a usage error here if torch is missing
        layout, op = ("torch", "cross-correlation") if impl == "torch" else ("paper",
                                                                             "convolution")
        fn = UserFunction("slth_check.validate.conv2d:_builtin_factory", timeout,
                          factory_args=(impl, padding), convert="real_array",
                          arg_names=_arg_names(layout))
    else:
        fn = UserFunction(impl, timeout, convert="real_array", arg_names=_arg_names(layout))
    config = {"impl": name, "layout": layout, "op": op, "padding": padding,
              "max_examples": max_examples, "rtol": rtol, "precision": precision,
              "max_d": max_d, "max_D": max_D, "max_channels": max_channels,
              "max_batch": max_batch, "max_abs": max_abs, "timeout": timeout,
              "sandbox": "in-process" if fn.in_process else "worker process",
              "tolerance": f"gamma_m(u) |K|*|X| + W ||K_l||_1 ||X||_max + underflow "
                           f"({precision}, u = 2^{int(math.log2(p.u))})"
                           + (f" + rtol {rtol} |K|*|X|" if rtol else "")}
    with fn:
        return _run(fn, name, impl, config, layout, op, padding, p, float(rtol or 0.0),
                    max_examples, seed, dict(max_d=max_d, max_D=max_D,
                                             max_channels=max_channels, max_batch=max_batch,
                                             max_abs=max_abs))


def _arg_names(layout: str) -> tuple[str, str]:
    return ("W (the kernel)", "X") if layout == "torch" else ("K", "X")


def _key(case: tuple[np.ndarray, np.ndarray]) -> tuple:
    K, X = case
    return (K.shape, K.tobytes(), X.shape, X.tobytes())


def _run(fn: UserFunction, name: str, impl: Any, config: dict, layout: str, op: str,
         padding: str, p: Precision, rtol: float, max_examples: int, seed: int,
         limits: dict) -> Verdict:
    try:
        fn.start()
    except UserCodeFailure as exc:
        return Verdict("discrepancy", f"{name}: the implementation {exc}", None, None,
                       ["the implementation could not be imported"], config)

    def evaluate(case: tuple[np.ndarray, np.ndarray]) -> _Problem | None:
        K, X = case
        A, Xu = to_user_layout(K, X, layout, op)
        try:
            Y = fn.call(A, Xu, during="while computing the case")
            Y = from_user_layout(Y, layout)
        except UserCodeFailure as exc:
            return _Problem(f"the implementation {exc}", fatal=exc.fatal)
        except ValueError as exc:  # e.g. an output that is not 4-dimensional
            return _Problem(f"unusable output ({exc})")
        return check_output(K, X, Y)

    def check_output(K: np.ndarray, X: np.ndarray, Y: np.ndarray,
                     exact: bool = False) -> _Problem | None:
        if Y.ndim != 4 or len(Y) != len(X):
            return _Problem(f"output shape {Y.shape} for an input batch of {len(X)}", got=Y)
        for n in range(X.shape[0]):
            res = check_image(K, X[n], Y[n], padding=padding, precision=p.name, rtol=rtol,
                              exact=exact)
            if not res.ok:
                where = f"image {n}: " if X.shape[0] > 1 else ""
                return _Problem(where + res.detail, got=Y)
        return None

    problems: dict[tuple, tuple[tuple, _Problem]] = {}
    fatal: list[tuple] = []
    shrinking = {"calls": 0, "best": None}

    def mismatch(case: tuple[np.ndarray, np.ndarray]) -> bool:
        key = _key(case)
        if fatal:  # no shrinking after a hang/exit/crash: each try could cost the timeout
            return key == fatal[0]
        if shrinking["best"] is not None:
            shrinking["calls"] += 1
            if shrinking["calls"] > SHRINK_CALLS:  # keep the smallest failure found so far
                return key == shrinking["best"]
        prob = evaluate(case)
        if prob is None:
            return False
        problems[key] = (case, prob)
        shrinking["best"] = key  # the shrinker only tries cases smaller than its best
        if prob.fatal:
            fatal.append(key)
        return True

    strategy = conv_cases(padding, precision=p.name, **limits)
    try:
        case = find(strategy, mismatch,
                    settings=settings(max_examples=max_examples, database=None,
                                      derandomize=True, deadline=None,
                                      phases=[Phase.generate, Phase.shrink],
                                      suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return Verdict("consistent", f"{name}: {max_examples} generated cases agree with "
                       f"Definition 1 ({padding} padding) within the {p.name} tolerance",
                       config=config)
    except Exception:  # noqa: BLE001 - e.g. Flaky: a non-deterministic implementation
        if not problems:
            raise
        case = min((c for c, _ in problems.values()), key=lambda c: (c[0].size + c[1].size))
    key = _key(case)
    prob = problems[key][1] if key in problems else evaluate(case)
    if prob is None:  # pragma: no cover - flaky user code passing on replay
        prob = _Problem("the implementation is not deterministic: it failed this case once")
    K, X = case
    if prob.got is not None and not prob.fatal and "in place" not in prob.detail:
        prob = check_output(K, X, prob.got, exact=True) or prob  # exact numbers
    expected = np.stack([conv2d(K.astype(np.float64), x.astype(np.float64), padding=padding)
                         for x in X])
    got = prob.got
    diagnosis: list[str] = []
    if got is not None and not prob.fatal:
        diagnosis = _diagnose(fn, layout, op, padding, [(K, X)] + _probe_cases(seed, p.dtype),
                              float(p.u))
        if got.shape != expected.shape:
            diagnosis.append(f"output shape {got.shape}, should be {expected.shape}")
        else:
            lower = _lower_precision(K, X, got, padding, p.name)
            if lower:
                diagnosis.append(lower)
    if "in place" in prob.detail:
        diagnosis.append("the implementation modifies its input in place; the validator "
                         "compares its own copies")
    builtin = isinstance(impl, str) and impl in ("torch", "scipy")
    if builtin:
        imp = (f"from slth_check.validate.conv2d import _builtin_factory\n"
               f"impl = _builtin_factory({impl!r}, {padding!r})")
    elif isinstance(impl, str):
        mod, attr = impl.split(":", 1)
        imp = f"import {mod}\nimpl = {mod}.{attr}"
    else:
        imp = f"from {getattr(impl, '__module__', '?')} import " \
              f"{getattr(impl, '__name__', 'impl')} as impl"
    repro = "\n".join([
        "import numpy as np",
        imp,
        f"K = {_arr_literal(K)}  # paper layout (d, d, c0, c1)",
        f"X = {_arr_literal(X)}  # paper layout (N, D, D, c0)",
        "import slth_check",
        f"expected = slth_check.conv2d(K.astype(np.float64), X.astype(np.float64), "
        f"padding={padding!r})",
        "from slth_check.validate.conv2d import to_user_layout, from_user_layout",
        f"A, Xu = to_user_layout(K, X, {layout!r}, {op!r})",
        f"got = from_user_layout(impl(A, Xu), {layout!r})",
        "print(got - expected)",
    ])
    ce = {"K": K.tolist(), "X": X.tolist(), "dtype": str(K.dtype),
          "expected": expected.tolist(),
          "got": None if got is None else got.tolist(), "detail": prob.detail}
    tail = "" if got is None else f"; got {got.tolist()}, should be {expected.tolist()}"
    what = "case" if prob.fatal else "minimal case"
    msg = (f"{name}: discrepancy with Definition 1 ({padding} padding, {p.name}) on a "
           f"{what} K {K.shape}, X {X.shape}: {prob.detail}{tail}")
    return Verdict("discrepancy", msg, ce, repro, diagnosis, config)
