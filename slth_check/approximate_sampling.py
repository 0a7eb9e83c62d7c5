"""The counter-based sample stream and the chunk task of ``slth-check approximate``
(:mod:`slth_check.approximate`).

Samples come from a counter-based stream, so any chunk is recomputed alone:
the key of tensor ``t`` is ``SeedSequence([seed, t])`` (128 bits), and the
samples of weight ``i`` (flat index) are the first ``n`` of the
``4 * ceil(n / 4)`` 64-bit outputs of ``numpy.random.Philox`` at counter
blocks ``i * ceil(n / 4)`` onwards, each mapped to ``2 * ((x >> 11) * 2**-53) - 1``
(uniform on the grid ``2**-52 Z`` in ``[-1, 1)``).  The solver is
meet-in-the-middle with exact re-verification (:mod:`slth_check.rss.mitm`):
every status is ``optimal`` unless a pathological tie set exceeds its budget.

A chunk (:func:`chunk_task`) runs in a worker of the executor; its result is written
as a deterministic ``.npz`` (:func:`npz_bytes`).
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
from numpy.lib import format as npformat

from .rss.result import STATUSES, status_codes

#: Status codes stored in the ``status`` arrays.
STATUS_CODES = {name: code for code, name in enumerate(STATUSES)}
SAMPLING = ("Unif([-1,1)) on the grid 2^-52 Z: for tensor t the Philox-4x64 key is "
            "SeedSequence([seed, t]).generate_state(2, uint64); weight i (flat index) takes the "
            "first n of the 4*ceil(n/4) outputs from counter block i*ceil(n/4), each x -> "
            "2*((x >> 11) * 2^-53) - 1")


def tensor_key(seed: int, t: int) -> int:
    """The 128-bit Philox key of tensor ``t`` (from ``SeedSequence([seed, t])``)."""
    a, b = np.random.SeedSequence([int(seed), int(t)]).generate_state(2, np.uint64)
    return int(a) | (int(b) << 64)


def samples(key: int, start: int, stop: int, n: int) -> np.ndarray:
    """The ``(stop - start, n)`` samples of weights ``start..stop-1`` (see module docs)."""
    blocks = -(-n // 4)
    bg = np.random.Philox(key=key, counter=start * blocks)
    raw = bg.random_raw((stop - start) * blocks * 4).reshape(stop - start, blocks * 4)[:, :n]
    return 2.0 * ((raw >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)) - 1.0


def chunk_task(targets: np.ndarray, key: int, start: int, n: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One chunk: exact-optimal subset sums of fresh samples for ``targets``.

    Returns ``(errors float64, packed masks uint8 (k, ceil(n/8)), status uint8)``.
    """
    from .rss import solve_chunk

    V = samples(key, start, start + targets.size, n)
    errors, masks, status = solve_chunk((V, targets, "mitm", None))
    codes = status_codes(status)  # the codes of STATUS_CODES, in one vectorised pass
    return errors, np.packbits(masks, axis=1), codes


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A deterministic ``.npz`` (fixed zip timestamps), readable by ``numpy.load``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            member = io.BytesIO()
            npformat.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()

def digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the arrays (names, dtypes, shapes and bytes, in name order), the
    ``sha256`` entry itself excluded."""
    import hashlib

    h = hashlib.sha256()
    for name in sorted(k for k in arrays if k != "sha256"):
        a = np.ascontiguousarray(np.atleast_1d(arrays[name]))  # 0-d reads back as (1,)
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def sealed_npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """:func:`npz_bytes` with a ``sha256`` entry (:func:`digest`): a checkpoint whose
    numbers were edited afterwards is told by :func:`is_sealed`."""
    return npz_bytes({**arrays, "sha256": np.array(digest(arrays))})


def is_sealed(arrays: dict[str, np.ndarray]) -> bool:
    """Do the arrays carry a ``sha256`` entry equal to their :func:`digest`?"""
    seal = arrays.get("sha256")
    return seal is not None and np.asarray(seal).size == 1 \
        and str(np.asarray(seal).reshape(-1)[0]) == digest(arrays)


__all__ = ["SAMPLING", "STATUS_CODES", "chunk_task", "digest", "is_sealed", "npz_bytes",
           "samples", "sealed_npz_bytes", "tensor_key"]
