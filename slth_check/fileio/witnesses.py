"""Witness files: the ``.npz`` a violated or unknown outcome leaves under
``reports/<run>/witnesses/`` (written by :func:`save_witness`) and read back by
``slth-check replay`` (:func:`load_witness`), side by side."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from slth_check.errors import InputError
from slth_check.fileio.files import atomic_write, load_npz, npz_bytes

__all__ = ["NamedEntries", "WitnessSource", "load_witness", "save_witness"]


class WitnessSource(Protocol):
    """What :func:`save_witness` reads of an outcome
    (:class:`slth_check.claims.base.Outcome` has it)."""

    @property
    def claim(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def expected(self) -> bool: ...
    @property
    def witness(self) -> Mapping[str, Any] | None: ...
    @property
    def extra(self) -> Mapping[str, Any]: ...

def save_witness(directory: Path, name: str, outcome: WitnessSource) -> str | None:
    """Save an outcome's witness arrays as .npz (atomically); returns the relative path."""
    if not outcome.witness:
        return None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in outcome.witness.items()}
    meta = {"claim": outcome.claim, "verdict": outcome.verdict, "detail": outcome.detail,
            "expected": outcome.expected}
    meta.update({k: v for k, v in outcome.extra.items() if isinstance(v, (str, int, float, bool))})
    arrays["meta"] = np.array(json.dumps(meta))
    atomic_write(directory / f"{name}.npz", npz_bytes(arrays))
    return f"witnesses/{name}.npz"


class NamedEntries(dict):
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
