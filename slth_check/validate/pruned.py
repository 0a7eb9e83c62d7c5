"""Certify a user's pruned random network against a target network.

File layout (``.npz``, read with ``allow_pickle=False``; paper layout):

* target ``T.npz``: ``K1 .. Kl`` kernels (d, d, c_{i-1}, c_i); optional
  ``b1 .. bl`` biases (c_i,);
* random ``R.npz``: ``U1 .. Ul`` (d, d, c_{i-1}, n_i) and ``V1 .. Vl``
  (1, 1, n_i, c_i); with biases, ``Ub1 .. Ubl`` (n_i,);
* masks ``M.npz``: ``S1 .. Sl`` (shape of U_i) and ``T1 .. Tl`` (shape of
  V_i), 0/1 or bool; with biases, ``Sb1 .. Sbl``.

Paper padding, stride 1, no pooling, no ReLU after the last layer (Theorem 1's
class of networks).  The verdict: ``holds`` when the sound certified upper
bound on ``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max`` is below eps,
``violated`` when an input replayed in exact arithmetic attains eps or more,
``unknown`` otherwise.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.certify import CertificationError, round_up, sup_error
from slth_check.fileio.networks import load_networks
from slth_check.validate import Verdict


class PrunedVerdict(Verdict):
    """A :class:`Verdict` whose JSON also carries the certificate at the top level."""

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out.update({k: self.config.get(k) for k in ("lower", "upper", "D", "method",
                                                   "receptive_field")})
        return out


def validate_pruned(target: str | Path, random: str | Path, masks: str | Path, *,
                    eps: float = 0.1, D: int | None = None) -> Verdict:
    """Certify ``sup_{X in [0,1]^{D x D x c0}} ||f(X) - g(X)||_max`` against ``eps``.

    ``D`` defaults to :meth:`TargetCNN.certification_size` (the receptive field of
    the whole network for Theorem 1's networks), for which the certificate covers
    every input size; a smaller ``D`` is certified as asked and said so.
    """
    if isinstance(eps, bool) or not (isinstance(eps, (int, float)) and 0 < eps
                                     and np.isfinite(eps)):
        raise ValueError(f"--eps: expected a positive finite number, got {eps!r}")
    if D is not None and (isinstance(D, bool) or not isinstance(D, (int, np.integer))
                          or D < 1):
        raise ValueError(f"--D: expected a positive integer input size, got {D!r}")
    f, g = load_networks(target, random, masks)
    R = f.receptive_field()
    D = f.certification_size() if D is None else int(D)
    cert = sup_error(f, g, D=D)
    if cert.upper is not None and cert.lower > cert.upper:  # sup_error raises first
        raise CertificationError(f"certified interval [{cert.lower}, "
                                 f"{cert.upper}] is empty")
    e = Fraction(float(eps))
    config = {"target": str(target), "random": str(random), "masks": str(masks), "eps": eps,
              "D": D, "receptive_field": R, "method": cert.method,
              "lower": float(cert.lower),
              "upper": None if cert.upper is None else float(round_up(float(cert.upper)))
              if Fraction(float(cert.upper)) < cert.upper else float(cert.upper)}
    interval = f"[{float(cert.lower):.6g}, " + (f"{config['upper']:.6g}]" if cert.upper
                                                is not None else "?]")
    where = f"X in [0,1]^({D},{D},{f.c0})"
    scope = (f"D = {D} covers every input size (receptive field {R})" if D >= R else
             f"D = {D} is smaller than the receptive field {R}: larger inputs are not "
             f"covered")
    if cert.lower >= e:
        if cert.witness is None:  # sup_error's lower bound is always an input replayed exactly
            raise CertificationError("sup_error returned a lower bound without its witness")
        return PrunedVerdict("violated", f"sup error >= eps = {eps}: an input {where} "
                             f"replayed exactly gives {float(cert.lower):.6g}; certified "
                             f"interval {interval}; {scope}",
                             {"X": cert.witness.tolist(), "error": float(cert.lower)}, None,
                             [], config)
    if cert.upper is not None and cert.upper < e:
        return PrunedVerdict("holds", f"sup over {where} of the error certified in "
                             f"{interval} < eps = {eps} ({cert.method}); {scope}", None, None,
                             [], config)
    return PrunedVerdict("unknown", f"sup over {where} of the error in {interval}: neither "
                         f"below eps = {eps} nor attained; {scope}", None, None, [], config)
