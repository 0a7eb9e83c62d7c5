"""``slth-check export``: argparse front end of :mod:`slth_check.export`.

Registered by :func:`register` (one line in
:func:`slth_check.cli.validate.add_subcommands`).  ``export vnnlib`` writes the
difference network ``f - g`` as ONNX and the property
``exists X in [0, 1]^n: ||f(X) - g(X)||_max >= eps`` as VNN-LIB
(:mod:`slth_check.export.bundle`).  Exit codes: 0 written; 2 usage or input error
(bad ``--eps``, a missing or malformed file, networks that do not match, the
``onnx`` package missing).  Nothing is imported until the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any


def _cmd_vnnlib(args: argparse.Namespace) -> int:
    from slth_check.export.bundle import FILES, check_eps, export_vnnlib

    check_eps(args.eps)  # before anything else: a bad --eps needs neither onnx nor files
    m = export_vnnlib(args.target, args.random, args.masks, args.out, eps=args.eps, D=args.D)
    c, P, _ = m["output_shape"]
    print(f"exported f - g to {args.out}: {FILES[0]} (input X (1, {m['c0']}, {m['D']}, "
          f"{m['D']}), output Y of {m['n_outputs']} = {c} x {P} x {P} entries, ONNX opset "
          f"{m['opset']}, float32), {FILES[1]} (0 <= X_i <= 1, unsafe: |Y_j| >= "
          f"{m['eps_literal']}), {FILES[2]}, {FILES[3]}. A verifier's UNSAT/SAT is evidence "
          "in float32, never a slth-check 'holds'.")
    return 0


def register(sub: Any) -> None:  # argparse's subparsers action (a private type)
    """Add the ``export`` sub-command to the ``slth-check`` parser (being built)."""
    e = sub.add_parser("export", help="export f - g to other tools' formats (VNN-LIB + ONNX "
                       "for neural-network verifiers)")
    es = e.add_subparsers(dest="what", required=True)
    v = es.add_parser("vnnlib", help="write DIR/difference.onnx (f - g, float32) and "
                      "DIR/property.vnnlib (exists X in [0,1]: |f - g|_max >= eps) for "
                      "VNN-COMP verifiers; their verdicts are float32 evidence, never a "
                      "slth-check 'holds' (needs the extra: pip install 'slth-check[onnx]')")
    v.add_argument("--target", required=True,
                   help="target network .npz: K1..Kl, optional b1..bl (as validate pruned)")
    v.add_argument("--random", required=True,
                   help="random layers .npz: U1..Ul, V1..Vl, optional Ub1..Ubl")
    v.add_argument("--masks", required=True,
                   help="masks .npz: S1..Sl, T1..Tl, optional Sb1..Sbl")
    v.add_argument("--eps", type=float, required=True,
                   help="the property's threshold: unsafe when some |f(X) - g(X)|_j >= eps "
                   "(a positive number)")
    v.add_argument("--out", required=True, metavar="DIR",
                   help="output folder (created; checked writable before writing)")
    v.add_argument("--D", type=int, default=None,
                   help="input size D of X in [0,1]^(D x D x c0) (default: the size that "
                   "covers every input size, as validate pruned)")
    v.set_defaults(func=_cmd_vnnlib)
