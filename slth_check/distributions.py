"""Closed forms of the summand distributions used by the proofs (Lemma 3, Lemma 1).

* ``X1 X2`` with ``X1, X2`` i.i.d. ``Unif([-1, 1])``: density
  ``f(z) = -(1/2) log|z|`` on ``[-1, 1]`` (|X_i| are Unif([0,1]); the product
  of two Unif([0,1]) has density ``-log t``; the sign is symmetric), CDF
  ``F(z) = 1/2 + sign(z) (|z|/2)(1 - log|z|)``.
* ``Y = V U+`` with ``U+ = max(0, U)`` (Lemma 1's summands): ``U+ = 0`` with
  probability 1/2, else ``Unif([0, 1])``, so ``Y`` has an atom of mass 1/2 at
  0 plus the absolutely continuous part ``-(1/4) log|z|`` on ``[-1, 1]``.
* ``E[1_{X<=0} X]``: ``-1/4`` for Unif([-1, 1]), ``-1/8`` for ``X1 X2``,
  ``-1/16`` for ``V U+`` (and the positive parts by symmetry).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np


def product_density(z):
    """Density of X1 X2 (X_i i.i.d. Unif([-1, 1])) at z (mpmath or float)."""
    z = abs(z)
    if z == 0 or z > 1:
        return mpmath.inf if z == 0 else mpmath.mpf(0)
    return -mpmath.log(z) / 2


def product_cdf(z: np.ndarray) -> np.ndarray:
    """CDF of X1 X2, vectorised (float64)."""
    z = np.clip(np.asarray(z, dtype=float), -1, 1)
    a = np.abs(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.where(a > 0, a / 2 * (1 - np.log(np.where(a > 0, a, 1))), 0.0)
    return 0.5 + np.sign(z) * part


def lemma1_summand_cdf(z: np.ndarray) -> np.ndarray:
    """CDF of V U+ (atom 1/2 at 0, half the product law elsewhere)."""
    z = np.asarray(z, dtype=float)
    return 0.5 * product_cdf(z) + 0.5 * (z >= 0)


def product_density_by_integration(z: float, dps: int = 30):
    """Density of X1 X2 at z by numerical integration of the product-law formula.

    ``f(z) = int f_X(x) f_X(z/x) / |x| dx`` with ``f_X = 1/2`` on [-1, 1]:
    the integrand is ``1/(4|x|)`` on ``|z| <= |x| <= 1``.
    """
    with mpmath.workdps(dps):
        a = abs(mpmath.mpf(z))
        g = lambda x: mpmath.mpf(1) / (4 * abs(x))  # noqa: E731
        return mpmath.quad(g, [-1, -a]) + mpmath.quad(g, [a, 1])


#: Exact negative and positive partial means E[1_{X<=0} X], E[1_{X>=0} X].
PARTIAL_MEANS = {
    "unif": (Fraction(-1, 4), Fraction(1, 4)),
    "product": (Fraction(-1, 8), Fraction(1, 8)),
    "lemma1": (Fraction(-1, 16), Fraction(1, 16)),
}


def sample(kind: str, rng: np.random.Generator, size) -> np.ndarray:
    """Samples of Unif([-1,1]) ("unif"), X1 X2 ("product") or V U+ ("lemma1")."""
    if kind == "unif":
        return rng.uniform(-1, 1, size)
    if kind == "product":
        return rng.uniform(-1, 1, size) * rng.uniform(-1, 1, size)
    if kind == "lemma1":
        return rng.uniform(-1, 1, size) * np.maximum(0.0, rng.uniform(-1, 1, size))
    raise ValueError(f"kind: expected 'unif', 'product' or 'lemma1', got {kind!r}")
