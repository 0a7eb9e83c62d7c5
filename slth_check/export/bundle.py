"""``slth-check export vnnlib``: one folder a VNN-COMP verifier can check.

``difference.onnx`` (:func:`~slth_check.export.onnx_graph.difference_model`),
``property.vnnlib`` (:func:`~slth_check.export.vnnlib.vnnlib_property`), a
``README.txt`` for people and a ``manifest.json`` for programs.  The pair is read
as ``slth-check validate pruned`` reads it (:func:`slth_check.fileio.networks.load_networks`)
and the input size defaults to the same ``certification_size()``.  A verifier's
verdict on the folder is evidence about the float32 graph, never a slth-check
``holds`` (which rests on exact arithmetic or a proven bound).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.export.onnx_graph import IR_VERSION, OPSET, difference_model, require_onnx
from slth_check.export.program import network_ops, output_shape
from slth_check.export.rounding import float_error_bound
from slth_check.export.vnnlib import real_literal, vnnlib_property
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

#: Largest number of VNN-LIB variables (inputs plus outputs) written (about 60 bytes each).
MAX_VARIABLES = 1_000_000
FILES = ("difference.onnx", "property.vnnlib", "README.txt", "manifest.json")


def check_eps(eps: Any) -> float:
    """``eps`` as a positive finite float (ValueError naming ``--eps`` otherwise)."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) \
            or not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"--eps: expected a positive finite number, got {eps!r}")
    return float(eps)


def _size(target: TargetCNN, D: int | None) -> int:
    if D is None:
        return target.certification_size()
    if isinstance(D, bool) or not isinstance(D, (int, np.integer)) or D < 1:
        raise ValueError(f"--D: expected a positive integer input size, got {D!r}")
    return int(D)


def _scope(target: TargetCNN, D: int) -> str:
    """Which input sizes the exported question covers (as ``validate pruned`` says it)."""
    R = target.receptive_field()
    try:
        cover = target.certification_size()
    except ValueError:  # same/full padding with strides or pooling
        return (f"this size only (receptive field {R}; with 'same'/'full' padding and "
                "strides or pooling no single size covers every larger one)")
    if D >= cover:
        return f"covers every input size (receptive field {R}), as in validate pruned"
    return (f"smaller than the size {cover} that covers every input size: larger inputs "
            "are not covered")


def _readme(m: dict[str, Any]) -> str:
    c0, D, (c, P, _) = m["c0"], m["D"], m["output_shape"]
    ni, no = m["n_inputs"], m["n_outputs"]
    return f"""slth-check export vnnlib ({m["slth_check_version"]})

What: the difference network f - g of a target CNN f and a pruned random CNN g
(Theorem 1; g's layers are (V . T) * relu((U . S) * X + Ub . Sb), Eq. 1-2 of Lemma 1),
read from {m["sources"]["target"]}, {m["sources"]["random"]}, {m["sources"]["masks"]}
as `slth-check validate pruned` reads them, with the question
    exists X in [0, 1]^{m["n_inputs"]}: max_j |f(X) - g(X)|_j >= eps = {m["eps_literal"]}

Files:
  difference.onnx  ONNX opset {m["opset"]}, float32. Input "X" of shape (1, {c0}, {D}, {D})
                   (NCHW), output "Y" of shape (1, {m["n_outputs"]}).
  property.vnnlib  VNN-LIB: declare-const X_0..X_{ni - 1} and Y_0..Y_{no - 1},
                   0 <= X_i <= 1, unsafe region (or (and (>= Y_j eps)) (and (<= Y_j -eps)) ...).

Ordering (row-major flattening, as in VNN-COMP):
  X_i, i = (k * {D} + r) * {D} + s  is slth-check's input X[r, s, k] (paper layout D x D x c0).
  Y_j, j = (l * {P} + p) * {P} + q  is f(X)[p, q, l] - g(X)[p, q, l] (output {P} x {P} x {c}).

Semantics: Definition 1's true convolution (kernels flipped for ONNX's cross-correlation),
the layers' padding as ONNX pads, biases, ReLU, 2x2 pooling, in slth-check's layer order.
Input size D = {D}: {m["scope"]}.

Verdicts: a verifier (alpha-beta-CROWN, Marabou, NNV, ...) that reports UNSAT proves
|f - g|_max < eps for the float32 graph in its own arithmetic; SAT gives a counterexample
to replay (`slth-check validate pruned` replays in exact arithmetic). Either is evidence
in float32, never a slth-check "holds" or "violated". The float32 graph (weights rounded
to float32, float32 arithmetic in any summation order) differs from the exact f - g by
at most B = {m["float32_error_bound"]:.3g} on the box (a forward error bound, assuming no
transform-based convolution; slth_check.export.rounding): a verifier that is sound for
the float32 graph and proves UNSAT at eps suggests |f - g|_max < eps + B for the exact
networks, as evidence. Only `slth-check validate pruned` says "holds".
"""


def export_difference(target: TargetCNN, pruned: PrunedCNN, out: str | Path, *, eps: Any,
                      D: int | None = None, sources: dict[str, str] | None = None
                      ) -> dict[str, Any]:
    """Write the folder ``out`` (module docs) for the pair ``(target, pruned)`` and return
    its manifest.  ``D`` defaults to ``target.certification_size()``."""
    from slth_check import __version__
    from slth_check.certify import check_pair
    from slth_check.fileio.files import atomic_write, ensure_writable_dir

    e = check_eps(eps)
    require_onnx()
    check_pair(target, pruned)
    D = _size(target, D)
    P, c = output_shape(network_ops(target, "f"), D, target.c0)
    n_in, n_out = D * D * target.c0, c * P * P
    if n_in + n_out > MAX_VARIABLES:
        raise ValueError(f"--D: {n_in} inputs and {n_out} outputs exceed the "
                         f"{MAX_VARIABLES} VNN-LIB variables written; give a smaller --D")
    ensure_writable_dir(out, "--out")
    model = difference_model(target, pruned, D)
    scope = _scope(target, D)
    m: dict[str, Any] = {
        "schema_version": 1, "slth_check_version": __version__, "what": "f - g",
        "sources": sources or {"target": "<in memory>", "random": "<in memory>",
                               "masks": "<in memory>"},
        "eps": e, "eps_literal": real_literal(e), "D": D, "c0": target.c0,
        "n_inputs": n_in, "n_outputs": n_out, "output_shape": [c, P, P], "scope": scope,
        "opset": OPSET, "ir_version": IR_VERSION, "dtype": "float32",
        "input": {"name": "X", "shape": [1, target.c0, D, D], "order": "NCHW row-major"},
        "output": {"name": "Y", "shape": [1, n_out], "order": "NCHW row-major"},
        "float32_error_bound": float(float_error_bound(target, pruned, D).max()),
        "verdict_note": "a verifier's verdict is float32 evidence, never a slth-check holds",
    }
    data = model.SerializeToString()
    m["onnx_sha256"] = hashlib.sha256(data).hexdigest()
    header = (f"slth-check {__version__}: exists X in [0,1]^{n_in} with "
              f"max_j |f(X) - g(X)|_j >= {m['eps_literal']}\n"
              f"X_i: input (1, {target.c0}, {D}, {D}) NCHW row-major; Y_j: f - g "
              f"(1, {c}, {P}, {P}) NCHW row-major\nUNSAT: the eps-approximation holds for "
              "the float32 graph (evidence, not a slth-check holds); SAT: a counterexample")
    out = Path(out)
    atomic_write(out / FILES[0], data)
    atomic_write(out / FILES[1], vnnlib_property(n_in, n_out, e, header=header))
    atomic_write(out / FILES[2], _readme(m))
    atomic_write(out / FILES[3], json.dumps(m, indent=2) + "\n")
    return m


def export_vnnlib(target: str | Path, random: str | Path, masks: str | Path, out: str | Path,
                  *, eps: Any, D: int | None = None) -> dict[str, Any]:
    """``slth-check export vnnlib``: read the three files of ``validate pruned`` and
    write the folder ``out`` (:func:`export_difference`)."""
    from slth_check.fileio.networks import load_networks

    check_eps(eps)
    require_onnx()
    f, g = load_networks(target, random, masks)
    return export_difference(f, g, out, eps=eps, D=D,
                             sources={"target": str(target), "random": str(random),
                                      "masks": str(masks)})
