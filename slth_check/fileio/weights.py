"""The weights files of ``slth-check approximate`` (:mod:`slth_check.experiment.approximate`).


Inputs (:func:`read_weights`): ``.npz`` (the package's safe reader), ``.safetensors``
(header parsed here, every size checked before reading), a PyTorch state dict
(``torch.load(weights_only=True)``, extra ``torch``) and the authors' BSON.jl
Every reader raises :class:`~slth_check.errors.InputError` naming the file.
"""

from __future__ import annotations

import fnmatch
import json
import math
import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from slth_check.errors import InputError, require_extra
from slth_check.fileio.files import MAX_NPZ_BYTES, load_npz, require_file
from slth_check.tensors import format_bytes

#: Largest safetensors JSON header accepted.
MAX_HEADER_BYTES = 100 * 2**20
FORMATS = ("npz", "safetensors", "torch", "bson")


@dataclass
class Weights:
    """The tensors read from one file: ``arrays`` selected, ``skipped`` with reasons."""

    fmt: str
    arrays: list[tuple[str, np.ndarray]]
    skipped: list[dict[str, str]]


def detect_format(path: Path) -> str:
    """The input format from the file's first bytes (and its suffix for BSON)."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    suffix = path.suffix.lower()
    if suffix == ".bson":
        return "bson"
    if suffix == ".safetensors":
        return "safetensors"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        # a zip: numpy's .npz, or PyTorch's zip-based state dict (a folder with data.pkl)
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise InputError(f"WEIGHTS: {path} is a truncated or corrupt zip archive "
                             f"({' '.join(str(exc).split())})") from exc
        if names and all(n.endswith(".npy") for n in names):
            return "npz"
        if any(n.endswith("data.pkl") for n in names):
            return "torch"
        return "npz"  # the safe reader names what is wrong
    if suffix in (".pt", ".pth", ".bin", ".ckpt"):
        return "torch"
    if suffix == ".npz":
        return "npz"
    if len(head) >= 8:
        (hlen,) = struct.unpack("<Q", head[:8])
        if 0 < hlen <= MAX_HEADER_BYTES and head[8:9] == b"{":
            return "safetensors"
    raise InputError(f"WEIGHTS: {path} is not a recognised weights file (expected .npz, "
                     f".safetensors, a PyTorch state dict .pt/.pth, or the authors' .bson)")


_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2",
              "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1",
              "BOOL": "?"}


def _safetensors_header(fh: IO[bytes], path: Path, size: int) -> tuple[dict, int]:
    """The JSON header and its length (checked against the file's size)."""
    (hlen,) = struct.unpack("<Q", fh.read(8))
    if hlen > min(MAX_HEADER_BYTES, size - 8):
        raise InputError(f"WEIGHTS: {path} claims a safetensors header of {hlen} bytes but "
                         f"the file holds {size} bytes (or the limit "
                         f"{format_bytes(MAX_HEADER_BYTES)} is passed): truncated or "
                         f"not a safetensors file")
    raw = fh.read(hlen)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"WEIGHTS: {path} has no valid safetensors JSON header "
                         f"({' '.join(str(exc).split())})") from exc
    if not isinstance(header, dict):
        raise InputError(f"WEIGHTS: {path} safetensors header is not a JSON object")
    return header, hlen


def _safetensors_entry(path: Path, name: str, ent: Any, data_len: int
                       ) -> tuple[str, np.dtype, list[int], list[int], int]:
    """One header entry checked: ``(dtype name, dtype, shape, data_offsets, bytes)``."""
    if not isinstance(ent, dict) or not {"dtype", "shape", "data_offsets"} <= ent.keys():
        raise InputError(f"WEIGHTS: {path} safetensors entry {name!r} lacks dtype, "
                         f"shape or data_offsets")
    dt, shape, offs = ent["dtype"], ent["shape"], ent["data_offsets"]
    if dt not in _ST_DTYPES:
        raise InputError(f"WEIGHTS: {path} tensor {name!r} has the unsupported dtype "
                         f"{dt!r}")
    if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0
                                            for s in shape)):
        raise InputError(f"WEIGHTS: {path} tensor {name!r} has an invalid shape "
                         f"{shape!r}")
    if not (isinstance(offs, list) and len(offs) == 2 and all(isinstance(o, int)
                                                               for o in offs)
            and 0 <= offs[0] <= offs[1] <= data_len):
        raise InputError(f"WEIGHTS: {path} tensor {name!r} has data_offsets {offs!r} "
                         f"outside the {data_len} data bytes: truncated or corrupt")
    dtype = np.dtype(_ST_DTYPES[dt])
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes != offs[1] - offs[0]:
        raise InputError(f"WEIGHTS: {path} tensor {name!r} claims shape {shape} of "
                         f"{dt} ({format_bytes(nbytes)}) but holds "
                         f"{format_bytes(offs[1] - offs[0])}: header and data do not "
                         f"match")
    return dt, dtype, shape, offs, nbytes


def _no_overlap(path: Path, plan: list) -> None:
    """Refuse tensors whose data ranges overlap (a file that lies about its layout)."""
    spans = sorted((offs[0], offs[1], name) for name, _dt, _dtype, _shape, offs in plan
                   if offs[1] > offs[0])
    for (a0, a1, a), (b0, b1, b) in zip(spans, spans[1:]):
        if b0 < a1:
            raise InputError(f"WEIGHTS: {path} tensors {a!r} (bytes {a0}..{a1}) and {b!r} "
                             f"(bytes {b0}..{b1}) overlap: not a valid safetensors file")


def read_safetensors(path: Path, max_bytes: int = MAX_NPZ_BYTES) -> dict[str, np.ndarray]:
    """Read a ``.safetensors`` file: 8-byte little-endian header length, JSON header, data.

    Every entry's ``dtype``, ``shape`` and ``data_offsets`` are checked against
    each other and against the file's size before any array is read; BF16 is
    widened exactly to float32.  Raises :class:`InputError` naming the file.
    """
    size = path.stat().st_size
    if size < 8:
        raise InputError(f"WEIGHTS: {path} is {size} bytes, too short for a safetensors file")
    with open(path, "rb") as fh:
        header, hlen = _safetensors_header(fh, path, size)
        base = 8 + hlen
        data_len = size - base
        plan = []
        total = 0
        for name, ent in header.items():
            if name == "__metadata__":
                continue
            dt, dtype, shape, offs, nbytes = _safetensors_entry(path, name, ent, data_len)
            total += nbytes
            if total > max_bytes:
                raise InputError(f"WEIGHTS: {path} holds more than {format_bytes(max_bytes)} "
                                 f"of tensors (limit slth_check.fileio.files.MAX_NPZ_BYTES)")
            plan.append((name, dt, dtype, shape, offs))
        _no_overlap(path, plan)
        out: dict[str, np.ndarray] = {}
        for name, dt, dtype, shape, offs in plan:
            fh.seek(base + offs[0])
            buf = fh.read(offs[1] - offs[0])
            if len(buf) != offs[1] - offs[0]:
                raise InputError(f"WEIGHTS: {path} tensor {name!r} is truncated")
            arr = np.frombuffer(buf, dtype=dtype).reshape(shape)
            if dt == "BF16":
                arr = (arr.astype(np.uint32) << 16).view(np.float32)
            out[name] = arr
    return out


def _flatten_state(obj: Any, prefix: str, out: dict[str, Any], depth: int = 0) -> None:
    if depth > 8:
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten_state(v, f"{prefix}{k}" if not prefix else f"{prefix}.{k}", out, depth + 1)
    else:
        out[prefix] = obj


def read_torch(path: Path) -> dict[str, np.ndarray]:
    """A PyTorch state dict via ``torch.load(weights_only=True)`` (never unpickles code)."""
    torch = require_extra("torch", what=f"WEIGHTS: {path} is a PyTorch file; reading it",
                          needs="torch", install="pip install 'slth-check[torch]'")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise InputError(f"WEIGHTS: {path} is not a PyTorch state dict readable with "
                         f"weights_only=True ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:200]})") from exc
    flat: dict[str, Any] = {}
    _flatten_state(obj, "", flat)
    out = {}
    for k, v in flat.items():
        if isinstance(v, torch.Tensor):
            t = v.detach().cpu()
            if t.dtype == torch.bfloat16:
                t = t.float()
            out[k] = t.numpy()
    if not out:
        raise InputError(f"WEIGHTS: {path} holds no tensor")
    return out


def _read_raw(path: Path, fmt: str) -> dict[str, np.ndarray]:
    """Every array of the file, by name, as its reader returns it."""
    if fmt == "npz":
        return load_npz(path, "WEIGHTS", kind=".npz archive of arrays")
    if fmt == "safetensors":
        return read_safetensors(path)
    if fmt == "torch":
        return read_torch(path)
    from slth_check.fileio.bson import load_cnnslth

    try:
        return {k: v for k, v in load_cnnslth(path).items() if k != "test_acc"}
    except InputError as exc:
        raise InputError(f"WEIGHTS: {' '.join(str(exc).split())}") from exc


def _select(path: Path, raw: dict[str, np.ndarray], include: Sequence[str],
            exclude: Sequence[str]) -> tuple[list[tuple[str, np.ndarray]], list[dict[str, str]]]:
    """The selected floating-point tensors (float64, sorted by name) and the skipped ones."""
    arrays, skipped = [], []
    for name in sorted(raw):
        arr = raw[name]
        if include and not any(fnmatch.fnmatchcase(name, p) for p in include):
            continue
        if any(fnmatch.fnmatchcase(name, p) for p in exclude):
            continue
        if arr.dtype.kind != "f":
            skipped.append({"name": name, "reason": f"dtype {arr.dtype} is not floating point"})
            continue
        if arr.size == 0:
            skipped.append({"name": name, "reason": "empty"})
            continue
        a = np.asarray(arr, dtype=np.float64)
        if not np.all(np.isfinite(a)):
            raise InputError(f"WEIGHTS: {path} tensor {name!r} holds NaN or Inf")
        arrays.append((name, a))
    return arrays, skipped


def read_weights(path: str | Path, include: Sequence[str] = (),
                 exclude: Sequence[str] = ()) -> Weights:
    """Read the weights file and select tensors by ``fnmatch`` patterns.

    A tensor is kept when it matches one of ``include`` (all if none) and none
    of ``exclude``; integer, boolean and empty tensors are skipped (listed in
    ``skipped`` with the reason).  Non-finite weights raise
    :class:`InputError` naming the tensor.
    """
    path = require_file(path, "WEIGHTS")
    if path.stat().st_size == 0:
        raise InputError(f"WEIGHTS: {path} is empty (0 bytes)")
    fmt = detect_format(path)
    arrays, skipped = _select(path, _read_raw(path, fmt), include, exclude)
    if not arrays:
        raise InputError(f"WEIGHTS: {path} has no floating-point tensor matching --include "
                         f"{list(include) or ['*']} and --exclude {list(exclude)}")
    return Weights(fmt, arrays, skipped)


__all__ = ["FORMATS", "MAX_HEADER_BYTES", "Weights", "detect_format", "read_safetensors",
           "read_torch", "read_weights"]
