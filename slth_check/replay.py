"""Replay a witness file in exact arithmetic (``slth-check replay``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def load_witness(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Load a witness .npz (never unpickling) and its metadata."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"witness: no such file {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "meta"}
            meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    except (ValueError, OSError) as exc:
        raise ValueError(f"witness: {path} is not a slth-check witness .npz ({exc})") from exc
    if "claim" not in meta:
        raise ValueError(f"witness: {path} has no 'meta' entry naming its claim")
    return arrays, meta


def replay(path: Path) -> tuple[str, str]:
    """Re-check a witness with its claim; returns (verdict, detail)."""
    from .claims import REGISTRY

    arrays, meta = load_witness(path)
    claim_id = meta["claim"]
    if claim_id not in REGISTRY:
        raise ValueError(f"witness: unknown claim {claim_id!r}")
    claim = REGISTRY[claim_id]()
    if not hasattr(claim, "replay"):
        raise ValueError(f"witness: claim {claim_id!r} has no replay")
    out = claim.replay(arrays, meta)
    obs = "-" if out.observed is None else f"{float(out.observed):.6g}"
    bnd = "-" if out.bound is None else f"{float(out.bound):.6g}"
    return out.verdict, (f"{claim_id}: observed {obs}, bound {bnd} (exact arithmetic). "
                         f"{out.detail}")
