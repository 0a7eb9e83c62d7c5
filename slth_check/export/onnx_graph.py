"""The difference network ``f - g`` as an ONNX model (float32), for NN verifiers.

Built with the ``onnx`` package's helper API (an optional extra, imported when a
model is built) from the steps of :func:`~slth_check.export.program.network_ops`:

* Definition 1 is a true convolution; ONNX ``Conv`` is a cross-correlation, so the
  kernels are flipped and laid out as OIHW (:func:`slth_check.tensors.kernel_to_torch`);
* every padding mode of :mod:`slth_check.conv` is a crop of the full convolution
  ``F[start : start + length]`` (:func:`~slth_check.conv.crop_window`), which is the
  cross-correlation with the flipped kernel of the input padded by
  ``d - 1 - start`` before and ``start + length - D`` after (:func:`onnx_pads`):
  paper ``(d-1, 0)``, same ``(ceil((d-1)/2), floor((d-1)/2))``, same_upper
  ``(floor((d-1)/2), floor(d/2))``, valid ``(0, 0)``, full ``(d-1, d-1)``;
* ReLU, 2x2 ``MaxPool``/``AveragePool`` (stride 2, floor mode), ``Flatten``;
* ``f - g`` as a 1x1 ``Conv`` with weights +1 and -1 over the channels of f and g
  concatenated: one rounding, as a ``Sub`` would make, but in layers every verifier's
  ONNX reader takes (Marabou's takes ``Sub`` only against a constant).

Input ``X`` of shape (1, c0, D, D) (NCHW); output ``Y`` of shape (1, c_l P P): the
NCHW output of ``f(X) - g(X)`` flattened in row-major order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from slth_check.conv import crop_window
from slth_check.export.program import Conv, Op, Pool2, network_ops, output_shape
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN
from slth_check.tensors import kernel_to_torch

if TYPE_CHECKING:
    import onnx

#: The ONNX operator set of the exported models (ONNX 1.12 and later; read by
#: ONNX Runtime, onnx2pytorch/onnx2torch as used by alpha-beta-CROWN, Marabou, NNV).
OPSET = 17
#: The IR version that goes with :data:`OPSET` (IR 8 = ONNX 1.12).
IR_VERSION = 8
#: The install command printed when the ``onnx`` package is missing.
INSTALL = "pip install 'slth-check[onnx]'"


def require_onnx() -> Any:
    """The ``onnx`` module, or a ValueError saying how to install it."""
    from slth_check.errors import require_extra

    return require_extra("onnx", what="export", needs="the onnx package", install=INSTALL)


def onnx_pads(padding: str, D: int, d: int) -> tuple[int, int]:
    """``(before, after)``: the zero padding that makes ONNX's cross-correlation with the
    flipped kernel compute the crop ``padding`` of the full convolution on a D x D map
    (module docs)."""
    start, length = crop_window(padding, D, d)
    return d - 1 - start, start + length - D


def _float32(a: np.ndarray, name: str) -> np.ndarray:
    out = np.ascontiguousarray(a, dtype=np.float32)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name}: an entry lies beyond float32's range (|x| > 3.4e38); "
                         "the network cannot be exported in float32")
    return out


class _Graph:
    """Nodes and initializers of a graph being built (names kept unique)."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.nodes: list[Any] = []
        self.inits: list[Any] = []

    def constant(self, a: np.ndarray, name: str) -> str:
        self.inits.append(self.onnx.numpy_helper.from_array(_float32(a, name), name))
        return name

    def node(self, op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def ops(self, ops: list[Op], x: str, D: int, prefix: str) -> str:
        """Append ``ops`` applied to the NCHW tensor ``x`` (D x D); return the output."""
        P = D
        for k, op in enumerate(ops):
            out = f"{prefix}.{k}"
            if isinstance(op, Conv):
                d = op.W.shape[0]
                before, after = onnx_pads(op.padding, P, d)
                inputs = [x, self.constant(kernel_to_torch(op.W), op.name)]
                if op.b is not None:
                    inputs.append(self.constant(op.b, op.name + ".bias"))
                x = self.node("Conv", inputs, out, kernel_shape=[d, d],
                              pads=[before, before, after, after],
                              strides=[op.stride, op.stride], dilations=[1, 1], group=1)
                P = (P + before + after - d) // op.stride + 1
            elif isinstance(op, Pool2):
                kind = "MaxPool" if op.kind == "max" else "AveragePool"
                x = self.node(kind, [x], out, kernel_shape=[2, 2], strides=[2, 2],
                              pads=[0, 0, 0, 0], ceil_mode=0)
                P //= 2
            else:
                x = self.node("Relu", [x], out)
        return x


def difference_model(target: TargetCNN, pruned: PrunedCNN, D: int) -> onnx.ModelProto:
    """The ONNX model of ``X -> flatten(f(X) - g(X))`` (module docs), float32, checked
    with ``onnx.checker.check_model``.  The pair must match (``check_pair``)."""
    from slth_check.certify import check_pair

    onnx = require_onnx()
    check_pair(target, pruned)
    helper = onnx.helper
    f_ops, g_ops = network_ops(target, "f"), network_ops(pruned, "g")
    P, c = output_shape(f_ops, D, target.c0)
    output_shape(g_ops, D, target.c0)  # same as f's (check_pair); raises on a bad D alike
    gr = _Graph(onnx)
    fy, gy = gr.ops(f_ops, "X", D, "f"), gr.ops(g_ops, "X", D, "g")
    both = gr.node("Concat", [fy, gy], "f_and_g", axis=1)
    ones = np.eye(c)[:, :, None, None]  # OIHW: output l = 1 * f_l + (-1) * g_l
    minus = gr.constant(np.concatenate([ones, -ones], axis=1), "difference")
    diff = gr.node("Conv", [both, minus], "f_minus_g", kernel_shape=[1, 1], pads=[0, 0, 0, 0],
                   strides=[1, 1], dilations=[1, 1], group=1)
    gr.node("Flatten", [diff], "Y", axis=1)
    f32 = onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        gr.nodes, "slth_check_difference",
        [helper.make_tensor_value_info("X", f32, [1, target.c0, D, D])],
        [helper.make_tensor_value_info("Y", f32, [1, c * P * P])], gr.inits,
        doc_string=f"f(X) - g(X): target CNN f ({target.ell} layers) minus pruned random CNN "
        f"g (Eq. 1-2 of Lemma 1); X (1, {target.c0}, {D}, {D}) NCHW, Y = the NCHW output "
        f"(1, {c}, {P}, {P}) flattened")
    from slth_check import __version__

    model = helper.make_model(graph, producer_name="slth-check", producer_version=__version__,
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model
