"""The resumable state of :func:`~slth_check.certify.branch.branch_and_bound`.

The open nodes (bound, item, fixed pooling choices, LP optimum), the lower bound
and its witness, in one sealed ``.npz`` (:func:`~slth_check.fileio.files.sealed_npz_bytes`,
written atomically, read without pickle) with a JSON ``meta`` member holding the
digest of the pair of networks, the seconds spent and the classes searched.  On
loading, the witness is replayed exactly again: the lower bound is never taken
from the file; a checkpoint of another pair, or one edited after it was sealed,
is refused.

The seal alone is a checksum that anyone can recompute, and the open nodes' bounds
(and that they cover the region) are taken from the file: so the meta also carries an
HMAC-SHA256 of the seal under this user's *checkpoint key* (:func:`checkpoint_key`: 32
random bytes kept outside the checkpoint, created on first use), and a checkpoint whose
HMAC does not verify under the key (edited and sealed again, or written by another
user or machine) is refused.  A run resumed from a checkpoint it accepts trusts the
open nodes that a run with the same key wrote; to resume on another machine, copy the
key too (``SLTH_CHECK_CHECKPOINT_KEY`` names its file).
"""

from __future__ import annotations

import heapq
import hmac
import json
import os
import secrets
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.certify.exact import exact_error
from slth_check.fileio.files import (
    atomic_write,
    digest,
    is_sealed,
    load_npz,
    sealed_npz_bytes,
    user_cache_dir,
)
from slth_check.network import TargetCNN
from slth_check.pruned import PrunedCNN

__all__ = ["Node", "checkpoint_key", "fresh_state", "load_state", "save_state"]

#: An open node: (-bound, id, item, fix, LP optimum or None before its LP).
Node = tuple[float, int, int, np.ndarray, np.ndarray | None]


def checkpoint_key() -> bytes:
    """This user's checkpoint key: the 32 bytes of the file ``$SLTH_CHECK_CHECKPOINT_KEY``,
    else ``$XDG_CACHE_HOME/slth-check/checkpoint.key`` (``~/.cache``), created with random
    bytes (mode 0600) when absent.  ValueError when it cannot be read or made."""
    env = os.environ.get("SLTH_CHECK_CHECKPOINT_KEY")
    if env:
        path = Path(env)
    else:
        path = user_cache_dir() / "checkpoint.key"
    try:
        if not path.exists():  # written whole, then linked: never seen half-written
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
            try:
                os.link(tmp, path)
            except FileExistsError:  # made by a concurrent run meanwhile: theirs
                pass
            finally:
                tmp.unlink()
        key = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"checkpoint: the checkpoint key {path} cannot be read or made "
                         f"({exc}); set SLTH_CHECK_CHECKPOINT_KEY to a writable file") from None
    if len(key) != 32:
        raise ValueError(f"checkpoint: the checkpoint key {path} holds {len(key)} bytes, "
                         "expected 32")
    return key


def _mac(arrays: dict[str, np.ndarray]) -> str:
    """HMAC-SHA256, under :func:`checkpoint_key`, of the arrays' digest (``meta`` without
    its ``mac`` entry)."""
    meta = json.loads(str(arrays["meta"]))
    meta.pop("mac", None)
    body = {**{k: v for k, v in arrays.items() if k not in ("meta", "sha256")},
            "meta": np.array(json.dumps(meta, sort_keys=True))}
    return hmac.new(checkpoint_key(), digest(body).encode(), "sha256").hexdigest()


def save_state(path: Path, ctx: dict[str, Any], st: dict[str, Any]) -> None:
    """Checkpoint the open nodes, the lower bound and its witness (sealed npz with a
    JSON ``meta`` member; atomic)."""
    heap = st["heap"]
    fixes = [n[3].ravel() for n in heap]
    vs = [np.zeros(0) if n[4] is None else n[4] for n in heap]
    meta = {"version": 1, "digest": ctx["digest"], "lower": str(st["lower"]),
            "seconds": st["spent"], "next_id": st["next_id"], "searched": sorted(st["searched"]),
            "nodes": st["nodes"]}
    arrays = {"bound": np.array([-n[0] for n in heap], float),
              "item": np.array([n[2] for n in heap], np.int64),
              "fix": np.concatenate(fixes).astype(np.int8) if fixes else np.zeros(0, np.int8),
              "fix_len": np.array([f.size for f in fixes], np.int64),
              "v": np.concatenate(vs) if vs else np.zeros(0),
              "v_len": np.array([v.size for v in vs], np.int64),
              "witness": np.zeros(0) if st["witness"] is None else st["witness"],
              "meta": np.array(json.dumps(meta))}
    arrays["meta"] = np.array(json.dumps({**meta, "mac": _mac(arrays)}))
    atomic_write(path, sealed_npz_bytes(arrays))


def load_state(path: Path, ctx: dict[str, Any], target: TargetCNN, pruned: PrunedCNN
          ) -> dict[str, Any]:
    """A checkpoint of this very pair (same digest), its witness replayed again."""
    a = load_npz(path, "checkpoint", text_keys=("meta", "sha256"))
    if not is_sealed(a):
        raise ValueError(f"checkpoint: {path} is not a sealed branch-and-bound checkpoint")
    meta = json.loads(str(a["meta"]))
    if not isinstance(meta.get("mac"), str) or not hmac.compare_digest(meta["mac"], _mac(a)):
        raise ValueError(f"checkpoint: {path} was not written under this user's checkpoint "
                         "key (edited and sealed again, or from another user or machine: "
                         "see SLTH_CHECK_CHECKPOINT_KEY)")
    if meta.get("digest") != ctx["digest"]:
        raise ValueError(f"checkpoint: {path} belongs to another pair of networks")
    fo, vo = np.cumsum(a["fix_len"]) - a["fix_len"], np.cumsum(a["v_len"]) - a["v_len"]
    heap: list[Node] = []
    for n, (b, it) in enumerate(zip(a["bound"], a["item"])):
        fix = a["fix"][fo[n]:fo[n] + a["fix_len"][n]].reshape(2, -1).copy()
        v = a["v"][vo[n]:vo[n] + a["v_len"][n]].copy() if a["v_len"][n] else None
        heap.append((-float(b), n, int(it), fix, v))
    heapq.heapify(heap)
    lower, witness = Fraction(-1), None
    if a["witness"].size:  # the lower bound is replayed, not trusted
        witness = np.asarray(a["witness"], dtype=float)
        shape = (ctx["D"], ctx["D"], ctx["c0"])
        if witness.shape != shape or not np.all((witness >= 0) & (witness <= 1)):
            raise ValueError(f"checkpoint: {path} holds a witness that is not an input in "
                             f"[0, 1]^{shape}")
        lower = exact_error(target, pruned, witness, via="effective")
    return {"heap": heap, "lower": lower, "witness": witness, "spent": meta["seconds"],
            "next_id": max(meta["next_id"], len(heap)), "nodes": meta["nodes"],
            "searched": {tuple(x) for x in meta["searched"]}}


def fresh_state(ctx: dict[str, Any]) -> dict[str, Any]:
    """Every item's root node with its linear-relaxation bound, nothing replayed."""
    heap: list[Node] = []
    for n, (item, b) in enumerate(zip(ctx["items"], ctx["bound0"])):
        nU = ctx["wins"][item[0]].opt.shape[0]
        heap.append((-b, n, n, np.full((2, nU), -1, np.int8), None))
    heapq.heapify(heap)
    return {"heap": heap, "lower": Fraction(-1), "witness": None, "spent": 0.0,
            "next_id": len(heap), "nodes": 0, "searched": set()}
