"""Replay a witness file in exact arithmetic (``slth-check replay``)."""

from __future__ import annotations

from pathlib import Path

from slth_check.errors import InputError
from slth_check.fileio.witnesses import NamedEntries, load_witness


def replay(path: Path) -> tuple[str, str]:
    """Re-check a witness with its claim; returns (verdict, detail).

    A witness that lacks an array or a metadata entry its claim needs raises
    :class:`~slth_check.errors.InputError` naming it ("witness: missing array
    'K' for claim proposition1 ...").
    """
    from slth_check.claims import REGISTRY
    from slth_check.claims.base import as_number

    path = Path(path)
    arrays, meta = load_witness(path)
    claim_id = meta["claim"]
    if claim_id not in REGISTRY:
        raise InputError(f"witness: unknown claim {claim_id!r} in {path}; expected one of "
                         f"{sorted(REGISTRY)}")
    claim = REGISTRY[claim_id]()  # Claim.replay: a clear error for a claim without one
    try:
        out = claim.replay(NamedEntries(arrays, "array", claim_id, path),
                           NamedEntries(meta, "metadata entry", claim_id, path))
    except KeyError as exc:  # a claim that looks a key up by other means
        raise InputError(f"witness: missing entry {exc} for claim {claim_id} in {path}") \
            from exc
    except IndexError as exc:  # e.g. a 0-d array where a vector was saved
        raise InputError(f"witness: an array of {path} has the wrong shape for claim "
                         f"{claim_id} ({exc})") from exc
    obs = "-" if out.observed is None else f"{as_number(out.observed):.6g}"
    bnd = "-" if out.bound is None else f"{as_number(out.bound):.6g}"
    return out.verdict, (f"{claim_id}: observed {obs}, bound {bnd} (exact arithmetic). "
                         f"{out.detail}")
