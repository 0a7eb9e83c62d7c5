"""Images in the IDX format in which MNIST and Fashion-MNIST are distributed
(``train-images-idx3-ubyte``, ``t10k-images-idx3-ubyte``, gzip or not), or an ``.npz``.

IDX: two zero bytes, a type code (``0x08``: unsigned bytes), the number of dimensions,
each dimension as a big-endian int32, then the data in row-major order.  Everything is
checked against the file's size before the data is read: a bad magic number, dimensions
that are not ``(N, rows, cols)`` or a truncated file is an :class:`InputError` naming the
file.  Pixels are returned as float64 in [0, 1] (``pixel / 255``, as the authors'
``MLDatasets ... traindata(Float32)``).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.errors import InputError
from slth_check.fileio.files import load_npz, require_file

#: Largest image count accepted (MNIST and Fashion-MNIST hold 60 000 + 10 000).
MAX_IMAGES = 1_000_000


_CHUNK = 1 << 20


def _read_at_most(fp: Any, size: int) -> bytearray:
    """Up to ``size`` bytes of ``fp``, read in chunks: never a buffer of ``size`` bytes
    allocated from a header's claim before the data is there."""
    out = bytearray()
    while len(out) < size:
        chunk = fp.read(min(_CHUNK, size - len(out)))
        if not chunk:
            break
        out += chunk
    return out


def _header(head: bytearray, path: Path) -> tuple[int, int, int]:
    if len(head) < 4 or head[:2] != b"\x00\x00" or head[2] != 0x08:
        raise InputError(f"--images: {path} is not an IDX file of unsigned bytes (bad magic "
                         f"number {head[:4].hex() or 'none'}, expected 00000803)")
    ndim = head[3]
    if ndim != 3 or len(head) < 4 + 4 * ndim:
        raise InputError(f"--images: {path} holds {ndim}-dimensional data, expected images "
                         "(N, rows, cols)" if ndim != 3 else
                         f"--images: {path} is truncated in its header ({len(head)} bytes)")
    dims = struct.unpack(">3i", head[4:16])
    if min(dims) < 1 or dims[0] > MAX_IMAGES or dims[1] * dims[2] > 4096:
        raise InputError(f"--images: {path} claims dimensions {dims}, not images")
    return dims[0], dims[1], dims[2]


def read_idx_images(path: str | Path) -> np.ndarray:
    """The images of an IDX3 file as float64 ``(N, rows, cols)`` in [0, 1] (module docs).

    A gzip file is decompressed as a stream: the header first, then at most the bytes it
    claims and one more, so a damaged stream (``zlib.error`` included) or a gzip bomb is
    an :class:`InputError` before anything large is allocated."""
    path = require_file(path, "--images")
    with path.open("rb") as fp:
        gz = fp.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rb") if gz else path.open("rb")) as fp:
            dims = _header(_read_at_most(fp, 16), path)
            need = dims[0] * dims[1] * dims[2]
            data = _read_at_most(fp, need + 1)
    except (OSError, EOFError, zlib.error) as exc:
        what = "is a damaged gzip file" if gz else "could not be read"
        raise InputError(f"--images: {path} {what} ({exc})") from None
    if len(data) != need:
        held = f"{len(data)}" if len(data) < need else \
            "more" if gz else f"{path.stat().st_size - 16}"
        raise InputError(f"--images: {path} claims {dims[0]} images of {dims[1]}x{dims[2]} "
                         f"({need} bytes) but holds {held}: truncated or corrupt")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims) / 255.0


def read_images(path: str | Path) -> np.ndarray:
    """IDX (gzip or not) or ``.npz`` (its ``images`` array, or its only one; uint8 pixels
    are divided by 255, floats must lie in [0, 1]) as float64 ``(N, rows, cols)``."""
    path = require_file(path, "--images")
    if path.suffix != ".npz":
        return read_idx_images(path)
    z = load_npz(path, "--images")
    arr = z.get("images", next(iter(z.values())) if len(z) == 1 else None)
    if arr is None or arr.ndim != 3 or arr.size == 0:
        raise InputError(f"--images: {path} needs one array 'images' of shape (N, rows, cols)"
                         + (f", got an empty one {arr.shape}" if arr is not None
                            and arr.ndim == 3 else ""))
    out = arr / 255.0 if arr.dtype == np.uint8 else np.asarray(arr, dtype=np.float64)
    if not (np.all(np.isfinite(out)) and out.min() >= 0 and out.max() <= 1):
        raise InputError(f"--images: {path} array 'images' must hold pixels in [0, 1] "
                         "(or uint8)")
    return out


__all__ = ["MAX_IMAGES", "read_idx_images", "read_images"]
