"""``slth-check validate conv2d | rss | pruned``: another implementation against the reference."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from slth_check.cli.json_stdout import emit_json
from slth_check.cli.options import add_json_option


def _report(args: argparse.Namespace, v: Any) -> int:  # v: a validate.Verdict
    """Print a verdict, write its JSON (``--json -``: JSON alone on stdout) and JUnit
    (``--junit``) where asked, return its exit code."""
    from slth_check.fileio.files import atomic_write

    human = sys.stderr if args.json == "-" else sys.stdout
    print(f"{v.verdict}: {v.message}", file=human)
    if v.diagnosis:
        print("diagnosis: " + "; ".join(v.diagnosis), file=human)
    if v.reproducer:
        print("reproducer:\n" + v.reproducer, file=human)
    if args.json == "-":
        emit_json(v.to_json())
    elif args.json:
        atomic_write(Path(args.json), json.dumps(v.to_json(), indent=2))
    if getattr(args, "junit", None):
        from slth_check.report.junit import write_validate_junit

        write_validate_junit(v, args.junit, args.what)
    return v.exit_code


def _verdict(args: argparse.Namespace) -> Any:
    """Run the validator ``args.what`` names with the parsed options; its Verdict."""
    if args.what == "conv2d":
        from slth_check.validate.conv2d.core import validate_conv2d

        return validate_conv2d(args.impl, layout=args.layout, op=args.op, padding=args.padding,
                               max_examples=args.max_examples, rtol=args.rtol,
                               precision=args.precision, max_d=args.max_d, max_D=args.max_D,
                               max_channels=args.max_channels, max_batch=args.max_batch,
                               max_abs=args.max_abs, timeout=args.timeout, stride=args.stride,
                               seed=args.seed)
    if args.what == "rss":
        from slth_check.validate.rss.core import validate_rss

        return validate_rss(args.impl, claims_optimal=args.claims_optimal, max_n=args.max_n,
                            max_examples=args.max_examples, max_abs=args.max_abs,
                            timeout=args.timeout, seed=args.seed)
    from slth_check.validate.pruned import validate_pruned

    return validate_pruned(args.target, args.random, args.masks, eps=args.eps, D=args.D)


def _cmd_validate(args: argparse.Namespace) -> int:
    return _report(args, _verdict(args))


def _conv2d_parser(vs: Any) -> Any:
    """``validate conv2d``: its options."""
    c = vs.add_parser("conv2d", help="differential testing of a conv2d")
    c.add_argument("--impl", required=True,
                   help="MODULE:ATTR (called as f(A, X), or f(A, X, stride=S) with --stride "
                   "S > 1), or a built-in: scipy, torch, jax (float64 with jax_enable_x64; "
                   "extra 'jax'), onnxruntime (a one-node ONNX Conv, float32; extra 'onnx'); "
                   "a built-in sets --layout and --op")
    c.add_argument("--layout", default="paper", choices=["paper", "torch"],
                   help="array layout handed to the implementation: paper (d,d,c0,c1)/(N,D,D,c0) "
                   "or torch (OIHW/NCHW)")
    c.add_argument("--op", default="convolution", choices=["convolution", "cross-correlation"],
                   help="what the implementation computes: convolution (Definition 1) or "
                   "cross-correlation (PyTorch)")
    c.add_argument("--padding", default="paper",
                   choices=["paper", "same", "valid", "full", "same_upper"],
                   help="padding mode the implementation implements: paper (Definition 1), "
                   "same (scipy's offset, Flux SamePad), same_upper (PyTorch, JAX/XLA, ONNX "
                   "SAME: more padding at the end for even kernels), valid, full")
    c.add_argument("--stride", type=int, default=1,
                   help="stride S: every S-th output of the padding mode's crop, from the "
                   "first (default 1)")
    c.add_argument("--max-examples", type=int, default=200,
                   help="random cases drawn after the grid (default 200)")
    c.add_argument("--rtol", type=float, default=None,
                   help="added to the tolerance: rtol * (|K|*|X|) per entry")
    c.add_argument("--precision", default="float64",
                   choices=["float64", "float32", "float16", "bfloat16"],
                   help="dtype handed to the implementation and its tolerance "
                        "(bfloat16: float32 arrays of bfloat16 values)")
    c.add_argument("--max-d", type=int, default=5, help="largest kernel size d")
    c.add_argument("--max-D", type=int, default=8, help="largest input size D")
    c.add_argument("--max-channels", type=int, default=4, help="largest c0, c1")
    c.add_argument("--max-batch", type=int, default=3, help="largest batch N")
    c.add_argument("--max-abs", type=float, default=None,
                   help="largest |entry| (default 1e6, float16: overflow-safe)")
    c.add_argument("--timeout", type=float, default=60.0,
                   help="seconds per call of the implementation (default 60)")
    c.add_argument("--seed", type=int, default=None,
                   help="seed of the random cases drawn after the grid (default: a fresh "
                   "one, printed; pass it back to replay a run)")
    add_json_option(c)
    return c


def _rss_parser(vs: Any) -> Any:
    """``validate rss``: its options."""
    r = vs.add_parser("rss", help="property testing of a subset-sum solver")
    r.add_argument("--impl", required=True, help="MODULE:ATTR called as f(values, target)")
    r.add_argument("--claims-optimal", action="store_true",
                   help="also check that each answer is an exact optimum (up to float64 "
                   "rounding of the objective)")
    r.add_argument("--max-n", type=int, default=16, help="largest n (1..30, default 16)")
    r.add_argument("--max-abs", type=float, default=None,
                   help="largest |value| and |target| generated (default 1e6; most "
                   "instances stay in [-1, 1] as in the paper)")
    r.add_argument("--max-examples", type=int, default=200,
                   help="random instances drawn after the grid (default 200)")
    r.add_argument("--timeout", type=float, default=60.0,
                   help="seconds per call of the solver (default 60)")
    r.add_argument("--seed", type=int, default=None,
                   help="seed of the random instances drawn after the grid (default: a "
                   "fresh one, printed; pass it back to replay a run)")
    add_json_option(r)
    return r


def _pruned_parser(vs: Any) -> Any:
    """``validate pruned``: its options."""
    p = vs.add_parser("pruned", help="certify a pruned random network against a target")
    p.add_argument("--target", required=True, help="target network .npz: K1..Kl, optional b1..bl")
    p.add_argument("--random", required=True,
                   help="random layers .npz: U1..Ul, V1..Vl, optional Ub1..Ubl")
    p.add_argument("--masks", required=True, help="masks .npz: S1..Sl, T1..Tl, optional Sb1..Sbl")
    p.add_argument("--eps", type=float, default=0.1,
                   help="the error to certify against (default 0.1)")
    p.add_argument("--D", type=int, default=None,
                   help="input size D of X in [0,1]^(D x D x c0) (default: the network's "
                   "receptive field, which covers every input size)")
    add_json_option(p)
    return p


def register(sub: Any) -> None:  # argparse's subparsers action (a private type)
    """Add ``validate conv2d | rss | pruned`` to the ``slth-check`` parser."""
    va = sub.add_parser("validate", help="validate another implementation against the "
                        "reference (exit 0 consistent/holds, 1 discrepancy/violated, "
                        "2 usage error, 3 unknown)")
    vs = va.add_subparsers(dest="what", required=True)
    c, r, p = _conv2d_parser(vs), _rss_parser(vs), _pruned_parser(vs)
    for q in (c, r, p):
        q.set_defaults(func=_cmd_validate)
        q.add_argument("--junit", metavar="PATH", help="also write the verdict as JUnit XML "
                       "(one test case: the implementation under test)")


__all__ = ["register"]
