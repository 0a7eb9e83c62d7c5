"""Sampling laws of the random weights (``approximate --law``), and whether each meets
what Lueker's theorem (Theorem 2) needs.

A law maps the sample stream's uniform numbers (:func:`slth_check.experiment.sampling.samples`,
``U[-1, 1]``) to its own samples, monotonically, so the default law is the stream itself
(bit for bit):

* ``uniform`` (the paper): ``U[-1, 1]``;
* ``scaled:S`` (a user-given scale): ``U[-S, S]``;
* ``pensia`` (Pensia et al.): ``U[min w, max w]`` of the tensor's (scaled) targets;
* ``kaiming-uniform``: ``U[-b, b]``, ``b = sqrt(6 / fan_in)`` (He et al., gain sqrt 2);
* ``kaiming-normal``: ``N(0, 2 / fan_in)`` by the inverse normal CDF.

Theorem 2 needs samples with a density bounded below by a positive constant on an
interval containing every target (the targets lie in [-1, 1] after ``--scale max``).
:func:`theorem2_support` says whether a law meets it, and why not.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

LAWS = ("uniform", "scaled", "pensia", "kaiming-uniform", "kaiming-normal")


def parse_law(text: str) -> tuple[str, float | None]:
    """``--law``: a name of :data:`LAWS` (``scaled:S`` with S > 0); ValueError naming it."""
    name, _, arg = str(text).partition(":")
    if name not in LAWS or (name == "scaled") != bool(arg):
        raise ValueError(f"--law: expected one of uniform, scaled:S, pensia, kaiming-uniform, "
                         f"kaiming-normal, got {text!r}")
    if name != "scaled":
        return name, None
    try:
        s = float(arg)
    except ValueError:
        s = float("nan")
    if not (math.isfinite(s) and s > 0):
        raise ValueError(f"--law: scaled:S needs a positive finite S, got {arg!r}")
    return name, s


def interval(law: tuple[str, float | None], targets: np.ndarray,
             fan_in: int) -> tuple[float, float] | None:
    """The support ``[lo, hi]`` of a uniform law (None for the normal one)."""
    name, s = law
    if name == "uniform":
        return -1.0, 1.0
    if name == "scaled":
        return -float(s), float(s)  # type: ignore[arg-type]
    if name == "pensia":
        return float(np.min(targets)), float(np.max(targets))
    if name == "kaiming-uniform":
        b = math.sqrt(6.0 / max(fan_in, 1))
        return -b, b
    return None


def transform(U: np.ndarray, law: tuple[str, float | None], targets: np.ndarray,
              fan_in: int) -> np.ndarray:
    """Samples of ``law`` from the stream's ``U[-1, 1]`` numbers ``U`` (the default law:
    ``U`` itself, untouched)."""
    return apply_spec(U, law_spec(law, targets, fan_in))


def _covers(law: tuple[str, float | None], lo: float, hi: float, span: tuple[float, float],
            fan_in: int) -> bool:
    """Exactly: ``lo < 0 < hi`` (a density on some ``[-a, a]``, ``a > 0``: Definition 2)
    and ``[lo, hi]`` (the support as drawn) contains ``span``; for Kaiming's uniform law
    also the bound ``sqrt(6 / fan_in)`` itself, not its rounding (``x^2 fan_in <= 6`` in
    Fractions)."""
    if not (lo < 0.0 < hi):
        return False
    drawn = lo <= span[0] and span[1] <= hi  # the support as drawn
    if law[0] == "kaiming-uniform":  # and the law's own bound
        x = max(abs(Fraction(span[0])), abs(Fraction(span[1])))
        return drawn and x * x * max(fan_in, 1) <= 6
    return drawn


def theorem2_support(law: tuple[str, float | None], targets: np.ndarray,
                     fan_in: int) -> tuple[str, str]:
    """``("holds" | "hypotheses_unmet", why)``: does the law have a density bounded below
    on an interval containing every target and 0 in its interior, as Theorem 2 needs
    (bounded samples whose law contains a ``U[-a, a]``, ``a > 0``: Definition 2)?  The
    normal law is judged as drawn: the inverse CDF of ``p`` in ``[2^-53, 1 - 2^-53]``
    bounds its samples by about 8.21 sigma (unbounded, Theorem 2 would not apply)."""
    lo_t, hi_t = float(np.min(targets)), float(np.max(targets))
    span = (min(lo_t, 0.0), max(hi_t, 0.0))
    iv = interval(law, targets, fan_in)
    if iv is None:
        lo, hi = (float(x) for x in apply_spec(np.array([-1.0, 1.0]),
                                               law_spec(law, targets, fan_in)))
        if _covers(law, lo, hi, span, fan_in):
            return "holds", (f"the normal law as drawn (inverse CDF of p in [2^-53, 1 - "
                             f"2^-53]) has a density bounded below on [{lo:.3g}, {hi:.3g}], "
                             f"which covers the targets and 0, [{span[0]:.3g}, {span[1]:.3g}]")
        return "hypotheses_unmet", (f"the normal law as drawn (inverse CDF of p in [2^-53, "
                                    f"1 - 2^-53]) has its samples in [{lo:.3g}, {hi:.3g}], "
                                    f"which does not contain the targets and 0, "
                                    f"[{span[0]:.3g}, {span[1]:.3g}]: Theorem 2 promises "
                                    "nothing for the targets outside it")
    lo, hi = iv
    if _covers(law, lo, hi, span, fan_in):
        return "holds", (f"the density 1/{hi - lo:.3g} on [{lo:.3g}, {hi:.3g}] covers the "
                         f"targets and 0, [{span[0]:.3g}, {span[1]:.3g}]")
    if not (lo < 0.0 < hi):
        return "hypotheses_unmet", (f"0 is not inside the support [{lo:.3g}, {hi:.3g}]: the "
                                    "law contains no U[-a, a], a > 0 (Definition 2), and "
                                    "Theorem 2 promises nothing")
    return "hypotheses_unmet", (f"the support [{lo:.3g}, {hi:.3g}] does not contain the "
                                f"targets and 0, [{span[0]:.3g}, {span[1]:.3g}]: Theorem 2 "
                                "promises nothing for the targets outside it")


def fan_in_of(shape: tuple[int, ...]) -> int:
    """``fan_in`` of a tensor for the Kaiming laws: ``size / shape[0]`` (PyTorch's
    convention, output dimension first), the size itself for a vector."""
    size = int(np.prod(shape)) if shape else 1
    return size // shape[0] if len(shape) > 1 and shape[0] else max(size, 1)


def law_spec(law: tuple[str, float | None], targets: np.ndarray, fan_in: int
             ) -> tuple[str, float, float] | None:
    """What a chunk needs to apply the law: ``None`` (the stream itself), ``("affine",
    lo, hi)`` or ``("normal", sigma, 0)``; picklable, computed once per tensor."""
    if law[0] == "uniform":
        return None
    iv = interval(law, targets, fan_in)
    if iv is not None:
        return "affine", iv[0], iv[1]
    return "normal", math.sqrt(2.0 / max(fan_in, 1)), 0.0


def apply_spec(U: np.ndarray, spec: tuple[str, float, float] | None) -> np.ndarray:
    """:func:`transform` from a :func:`law_spec`."""
    if spec is None:
        return U
    if spec[0] == "affine":
        lo, hi = spec[1], spec[2]
        if math.isfinite(hi - lo):
            return lo + (U + 1.0) * ((hi - lo) / 2.0)
        # hi - lo overflows (scaled:S with S > 8.9e307): the same line through its
        # centre, every sample finite (the formula above gave inf and NaN)
        return (lo / 2.0 + hi / 2.0) + U * (hi / 2.0 - lo / 2.0)
    from scipy.special import ndtri

    p = np.clip((U + 1.0) / 2.0, 2.0**-53, 1 - 2.0**-53)
    return ndtri(p) * spec[1]


def law_record(law: tuple[str, float | None], targets: np.ndarray, fan_in: int
               ) -> dict[str, Any]:
    """What a report records of a law: its name, parameter, support and the verdict of
    :func:`theorem2_support`."""
    verdict, why = theorem2_support(law, targets, fan_in)
    return {"law": law[0], "parameter": law[1], "support": interval(law, targets, fan_in),
            "theorem2": verdict, "why": why}


__all__ = ["LAWS", "apply_spec", "fan_in_of", "interval", "law_record", "law_spec", "parse_law",
           "theorem2_support", "transform"]
