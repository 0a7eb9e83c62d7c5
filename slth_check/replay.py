"""Replay a witness file in exact arithmetic (``slth-check replay``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.errors import InputError


class _Named(dict):
    """A witness's arrays or metadata: a missing key names itself and the claim."""

    def __init__(self, data: dict, kind: str, claim: str, path: Path) -> None:
        super().__init__(data)
        self.kind, self.claim, self.path = kind, claim, path

    def __missing__(self, key: Any) -> Any:
        have = ", ".join(sorted(map(str, self))) or "none"
        raise InputError(f"witness: missing {self.kind} {key!r} for claim {self.claim} in "
                         f"{self.path} (it has: {have})")


def load_witness(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Load a witness .npz and its metadata.

    Never unpickles; every array header is checked before anything is
    allocated (:func:`slth_check.fileio.files.load_npz`).  Raises
    ``FileNotFoundError`` or :class:`~slth_check.errors.InputError` (a
    ``ValueError``, exit 2) naming the file.
    """
    from slth_check.fileio.files import load_npz

    path = Path(path)
    z = load_npz(path, "witness", text_keys=("meta",), kind="slth-check witness .npz")
    arrays = {k: v for k, v in z.items() if k != "meta"}
    if "meta" not in z:
        raise InputError(f"witness: {path} has no 'meta' entry naming its claim")
    try:
        meta = json.loads(str(z["meta"]))
    except ValueError as exc:
        raise InputError(f"witness: {path} has a 'meta' entry that is not JSON ({exc})") \
            from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("claim"), str):
        raise InputError(f"witness: {path} has a 'meta' entry without a 'claim' name")
    return arrays, meta


def replay(path: Path) -> tuple[str, str]:
    """Re-check a witness with its claim; returns (verdict, detail).

    A witness that lacks an array or a metadata entry its claim needs raises
    :class:`~slth_check.errors.InputError` naming it ("witness: missing array
    'K' for claim proposition1 ...").
    """
    from slth_check.claims import REGISTRY

    path = Path(path)
    arrays, meta = load_witness(path)
    claim_id = meta["claim"]
    if claim_id not in REGISTRY:
        raise InputError(f"witness: unknown claim {claim_id!r} in {path}; expected one of "
                         f"{sorted(REGISTRY)}")
    claim = REGISTRY[claim_id]()  # Claim.replay: a clear error for a claim without one
    try:
        out = claim.replay(_Named(arrays, "array", claim_id, path),
                           _Named(meta, "metadata entry", claim_id, path))
    except KeyError as exc:  # a claim that looks a key up by other means
        raise InputError(f"witness: missing entry {exc} for claim {claim_id} in {path}") \
            from exc
    except IndexError as exc:  # e.g. a 0-d array where a vector was saved
        raise InputError(f"witness: an array of {path} has the wrong shape for claim "
                         f"{claim_id} ({exc})") from exc
    obs = "-" if out.observed is None else f"{float(out.observed):.6g}"
    bnd = "-" if out.bound is None else f"{float(out.bound):.6g}"
    return out.verdict, (f"{claim_id}: observed {obs}, bound {bnd} (exact arithmetic). "
                         f"{out.detail}")
