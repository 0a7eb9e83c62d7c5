"""Reader for the authors' BSON.jl files (``ArthurWalraven/cnnslth``, folder ``saves/``).

BSON (bsonspec.org) is parsed here by a small, safe reader: no code is ever
executed, the file size and the nesting depth are bounded, and every length
field is checked against the bytes that remain.  BSON.jl stores a Julia array
as a sub-document ``{tag: "array", type: {name: [..., "Float32"]}, size: [...],
data: <binary>}`` with the data in column-major order; ``backref`` tags refer
to earlier objects.  :func:`load_cnnslth` returns the float arrays found,
converted to the paper's layout: conv kernels (Flux WHCN ``(W, H, C_in, C_out)``,
a true convolution) become ``(d, d, c0, c1)``.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.errors import InputError

MAX_BYTES = 64 * 2**20
MAX_DEPTH = 64

_JULIA_FLOATS = {"Float32": "<f4", "Float64": "<f8", "Float16": "<f2"}


class BSONError(InputError):
    """The file is not a BSON document of the expected form."""


def _cstring(buf: bytes, pos: int) -> tuple[str, int]:
    end = buf.find(b"\x00", pos)
    if end < 0:
        raise BSONError("unterminated key name")
    return buf[pos:end].decode("utf-8", errors="replace"), end + 1


def _need(buf: bytes, pos: int, n: int) -> None:
    if n < 0 or pos + n > len(buf):
        raise BSONError(f"truncated: need {n} bytes at offset {pos}, file has {len(buf)}")


def parse_document(buf: bytes, pos: int = 0, depth: int = 0) -> tuple[dict[str, Any], int]:
    """Parse one BSON document starting at ``pos``; returns (dict, end position)."""
    if depth > MAX_DEPTH:
        raise BSONError(f"nesting deeper than {MAX_DEPTH}")
    _need(buf, pos, 5)
    (size,) = struct.unpack_from("<i", buf, pos)
    _need(buf, pos, size)
    if size < 5:
        raise BSONError(f"invalid document length {size} at offset {pos}")
    end = pos + size
    if buf[end - 1] != 0:
        raise BSONError(f"document at offset {pos} is not terminated")
    out: dict[str, Any] = {}
    p = pos + 4
    while p < end - 1:
        kind = buf[p]
        key, p = _cstring(buf, p + 1)
        out[key], p = _element(buf, kind, p, depth)
    if p != end - 1:
        raise BSONError("element overran its document")
    return out, end


#: Fixed-size BSON elements: type -> (struct format, bytes).
_FIXED = {0x01: ("<d", 8), 0x10: ("<i", 4), 0x12: ("<q", 8)}


def _element(buf: bytes, kind: int, p: int, depth: int) -> tuple[Any, int]:
    """The value of one element of BSON type ``kind`` starting at ``p`` in a document
    at nesting ``depth``; returns (value, position after it)."""
    if kind in _FIXED:  # double, int32, int64
        fmt, n = _FIXED[kind]
        _need(buf, p, n)
        (value,) = struct.unpack_from(fmt, buf, p)
        return value, p + n
    if kind == 0x02:  # string
        _need(buf, p, 4)
        (n,) = struct.unpack_from("<i", buf, p)
        _need(buf, p + 4, n)
        return buf[p + 4:p + 4 + n - 1].decode("utf-8", errors="replace"), p + 4 + n
    if kind in (0x03, 0x04):  # document, array
        doc, p = parse_document(buf, p, depth + 1)
        return ([doc[k] for k in sorted(doc, key=int)] if kind == 0x04 and all(
            k.isdigit() for k in doc) else doc), p
    if kind == 0x05:  # binary
        _need(buf, p, 5)
        (n,) = struct.unpack_from("<i", buf, p)
        _need(buf, p + 5, n)
        return bytes(buf[p + 5:p + 5 + n]), p + 5 + n
    if kind == 0x08:  # bool
        _need(buf, p, 1)
        return buf[p] != 0, p + 1
    if kind == 0x0A:  # null
        return None, p
    raise BSONError(f"unsupported BSON element type 0x{kind:02x} at offset {p}")


def _julia_arrays(node: Any, found: list[np.ndarray], depth: int = 0) -> None:
    """Collect every float array sub-document (tag 'array') in the tree."""
    if depth > MAX_DEPTH:
        raise BSONError(f"nesting deeper than {MAX_DEPTH}")
    if isinstance(node, dict):
        if node.get("tag") == "array" and isinstance(node.get("data"), bytes):
            typ = node.get("type", {})
            name = typ.get("name", []) if isinstance(typ, dict) else []
            elt = name[-1] if isinstance(name, list) and name else None
            size = node.get("size")
            if elt in _JULIA_FLOATS and isinstance(size, list) and \
                    all(isinstance(s, int) and s >= 0 for s in size):
                dt = np.dtype(_JULIA_FLOATS[elt])
                count = math.prod(size)  # Python ints: no silent int64 overflow
                if len(node["data"]) != count * dt.itemsize:
                    raise BSONError(f"array of size {size} has {len(node['data'])} data bytes")
                arr = np.frombuffer(node["data"], dtype=dt).reshape(size, order="F")
                found.append(arr.astype(np.float64))
                return
        for v in node.values():
            _julia_arrays(v, found, depth + 1)
    elif isinstance(node, list):
        for v in node:
            _julia_arrays(v, found, depth + 1)


#: Julia sizes of LeNet5's parameters (the folder's README) -> names.
LENET5_SHAPES = {
    (5, 5, 1, 6): "conv1.weight", (6,): "conv1.bias",
    (5, 5, 6, 16): "conv2.weight", (16,): "conv2.bias",
    (120, 784): "dense1.weight", (120,): "dense1.bias",
    (84, 120): "dense2.weight", (84,): "dense2.bias",
    (10, 84): "dense3.weight", (10,): "dense3.bias",
}


def flux_kernel_to_paper(W: np.ndarray) -> np.ndarray:
    """Flux Conv weight (W, H, C_in, C_out), a true convolution -> paper (d, d, c0, c1).

    Flux indexes ``x`` (width) first; the paper's ``K[i, j]`` is row i, column
    j, i.e. height then width, so the two spatial axes are swapped.
    """
    return np.ascontiguousarray(W.transpose(1, 0, 2, 3))


def load_cnnslth(path: str | Path) -> dict[str, np.ndarray]:
    """Load one of the authors' BSON.jl files as named float64 arrays (paper layout).

    Arrays are identified by their shape (the folder's README: the order of
    the ``IdSet`` is not meaningful).  Conv kernels are returned as
    ``(d, d, c0, c1)``.  Raises ``ValueError`` for a file that is not of this
    form (not BSON, truncated, no recognisable LeNet5 arrays, duplicated
    shapes, too large).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no such file {path}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(f"path: {path} is {size} bytes, more than the {MAX_BYTES} allowed")
    buf = path.read_bytes()
    found: list[np.ndarray] = []
    try:
        doc, end = parse_document(buf)
        _julia_arrays(doc, found)
    except BSONError as exc:
        raise InputError(f"path: {path} is not a BSON.jl file of the expected form ({exc})") \
            from exc
    if end != len(buf):
        raise InputError(f"path: {path} has {len(buf) - end} trailing bytes after the document")
    out: dict[str, np.ndarray] = {}
    for arr in found:
        name = LENET5_SHAPES.get(arr.shape)
        if name is None:
            continue
        if name in out:
            raise InputError(f"path: {path} holds two arrays of shape {arr.shape}")
        out[name] = flux_kernel_to_paper(arr) if arr.ndim == 4 else arr
    if not out:
        raise InputError(f"path: {path} holds no LeNet5 parameter array")
    if isinstance(doc.get("test_acc"), float):
        out["test_acc"] = np.array(doc["test_acc"])
    return out


CONV_NAMES = ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias")
