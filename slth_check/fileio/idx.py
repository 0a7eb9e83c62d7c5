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
from pathlib import Path

import numpy as np

from slth_check.errors import InputError
from slth_check.fileio.files import load_npz, require_file

#: Largest image count accepted (MNIST and Fashion-MNIST hold 60 000 + 10 000).
MAX_IMAGES = 1_000_000


def _raw(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"--images: {path} is a damaged gzip file ({exc})") from None
    return data


def read_idx_images(path: str | Path) -> np.ndarray:
    """The images of an IDX3 file as float64 ``(N, rows, cols)`` in [0, 1] (module docs)."""
    path = require_file(path, "--images")
    data = _raw(path)
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise InputError(f"--images: {path} is not an IDX file of unsigned bytes (bad magic "
                         f"number {data[:4].hex() or 'none'}, expected 00000803)")
    ndim = data[3]
    if ndim != 3 or len(data) < 4 + 4 * ndim:
        raise InputError(f"--images: {path} holds {ndim}-dimensional data, expected images "
                         "(N, rows, cols)")
    dims = struct.unpack(">3i", data[4:16])
    if min(dims) < 1 or dims[0] > MAX_IMAGES or dims[1] * dims[2] > 4096:
        raise InputError(f"--images: {path} claims dimensions {dims}, not images")
    need = dims[0] * dims[1] * dims[2]
    if len(data) - 16 != need:
        raise InputError(f"--images: {path} claims {dims[0]} images of {dims[1]}x{dims[2]} "
                         f"({need} bytes) but holds {len(data) - 16}: truncated or corrupt")
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(dims) / 255.0


def read_images(path: str | Path) -> np.ndarray:
    """IDX (gzip or not) or ``.npz`` (its ``images`` array, or its only one; uint8 pixels
    are divided by 255, floats must lie in [0, 1]) as float64 ``(N, rows, cols)``."""
    path = require_file(path, "--images")
    if path.suffix != ".npz":
        return read_idx_images(path)
    z = load_npz(path, "--images")
    arr = z.get("images", next(iter(z.values())) if len(z) == 1 else None)
    if arr is None or arr.ndim != 3:
        raise InputError(f"--images: {path} needs one array 'images' of shape (N, rows, cols)")
    out = arr / 255.0 if arr.dtype == np.uint8 else np.asarray(arr, dtype=np.float64)
    if not (np.all(np.isfinite(out)) and out.min() >= 0 and out.max() <= 1):
        raise InputError(f"--images: {path} array 'images' must hold pixels in [0, 1] "
                         "(or uint8)")
    return out


__all__ = ["MAX_IMAGES", "read_idx_images", "read_images"]
