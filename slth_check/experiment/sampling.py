"""The counter-based sample stream and the chunk task of ``slth-check approximate``
(:mod:`slth_check.experiment.approximate`).

Samples come from a counter-based stream, so any chunk is recomputed alone:
the key of tensor ``t`` is ``SeedSequence([seed, t])`` (128 bits), and the
samples of weight ``i`` (flat index) are the first ``n`` of the
``4 * ceil(n / 4)`` 64-bit outputs of ``numpy.random.Philox`` at counter
blocks ``i * ceil(n / 4)`` onwards, each mapped to ``2 * ((x >> 11) * 2**-53) - 1``
(uniform on the grid ``2**-52 Z`` in ``[-1, 1)``).  The solver is
meet-in-the-middle with exact re-verification (:mod:`slth_check.rss.mitm`):
every status is ``optimal`` unless a pathological tie set exceeds its budget.

A chunk (:func:`chunk_task`) runs in a worker of the executor; its result is written
as a deterministic ``.npz`` (:func:`slth_check.fileio.files.npz_bytes`).
"""

from __future__ import annotations

import numpy as np

from slth_check.rss.result import STATUSES, status_codes

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


def chunk_task(targets: np.ndarray, key: int, start: int, n: int,
               law: tuple[str, float, float] | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One chunk: exact-optimal subset sums of fresh samples for ``targets`` (samples of
    the law ``law``, a :func:`slth_check.experiment.laws.law_spec`; None: U[-1, 1]).

    Returns ``(errors float64, packed masks uint8 (k, ceil(n/8)), status uint8)``.
    """
    from slth_check.experiment.laws import apply_spec
    from slth_check.rss import solve_chunk

    V = apply_spec(samples(key, start, start + targets.size, n), law)
    errors, masks, status = solve_chunk((V, targets, "mitm", None))
    codes = status_codes(status)  # the codes of STATUS_CODES, in one vectorised pass
    return errors, np.packbits(masks, axis=1), codes


__all__ = ["SAMPLING", "STATUS_CODES", "chunk_task", "samples", "tensor_key"]
