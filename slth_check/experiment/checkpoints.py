"""The files of one ``approximate`` run in ``--out``: ``run.json`` (the settings, checked
on ``--resume``), ``chunks/`` (one sealed checkpoint per finished chunk) and ``tensors/``
(one file per finished tensor, replacing its chunks); what is still to solve, and what was
found edited or damaged (recomputed)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.errors import InputError, UsageError
from slth_check.experiment.sampling import STATUS_CODES, samples, tensor_key
from slth_check.fileio.files import atomic_write, is_sealed, load_npz, sealed_npz_bytes
from slth_check.fileio.weights import Weights
from slth_check.rss.exact import rounded_error


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "tensor"


#: What a run writes into ``--out`` besides ``run.json`` (written first).
OUTPUTS = ("chunks", "tensors", "approximate.json", "approximate.md", "figure3.png",
           "timing.json")


def _refuse_foreign(out: Path) -> None:
    """A new run (no ``run.json``) writes into no folder already holding one of its
    :data:`OUTPUTS`: those are not a run's, and would be overwritten or removed."""
    found = [name for name in OUTPUTS if os.path.lexists(out / name)]
    if found:
        raise UsageError(f"--out: {out} holds {', '.join(found)} but no run.json (not a "
                         f"run to --resume): choose another folder, or move those away")


def open_out(out: Path, manifest: dict[str, Any], resume: bool) -> None:
    """Write ``run.json``, or check it against ``manifest`` when resuming; make the
    folders and remove the temporary files of a killed run."""
    man_path = out / "run.json"
    if man_path.exists():
        if not resume:
            raise UsageError(f"--out: {out} holds a run already (run.json): add --resume to "
                             f"finish it, or choose another folder")
        try:
            old = json.loads(man_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"--resume: {man_path} is unreadable ({exc})") from exc
        if old != manifest:
            diff = sorted(k for k in manifest if old.get(k) != manifest[k])
            raise UsageError(f"--resume: {out} holds a run with other settings ({', '.join(diff)}"
                             f" differ): use the same WEIGHTS and options, or another --out")
    else:
        _refuse_foreign(out)
        atomic_write(man_path, json.dumps(manifest, indent=1) + "\n")
    chunk_dir, tensor_dir = out / "chunks", out / "tensors"
    chunk_dir.mkdir(parents=True, exist_ok=True)
    tensor_dir.mkdir(parents=True, exist_ok=True)
    for stale in list(chunk_dir.glob(".*.tmp")) + list(tensor_dir.glob(".*.tmp")):
        stale.unlink(missing_ok=True)  # temporary files of a killed run


@dataclass
class Run:
    """One run in ``out``: per tensor its file name, scale, targets and key, the chunks
    still to solve, and the weights in all and already done."""

    out: Path
    w: Weights
    n: int
    chunk_size: int
    names: list[str] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)
    targets: list[np.ndarray] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    laws: list[Any] = field(default_factory=list)  # per tensor: laws.law_spec (None: U[-1,1])
    law_records: list[dict[str, Any]] = field(default_factory=list)
    todo: list[tuple[int, int, int, int]] = field(default_factory=list)
    recomputed: list[str] = field(default_factory=list)  # checkpoints edited or unreadable
    total: int = 0
    done: int = 0

    def chunk_path(self, t: int, c: int) -> Path:
        return self.out / "chunks" / f"{t:04d}-{c:07d}.npz"

    def tensor_path(self, t: int) -> Path:
        return self.out / "tensors" / self.names[t]

    def chunks(self, t: int) -> int:
        return -(-self.w.arrays[t][1].size // self.chunk_size)


def plan(out: Path, w: Weights, n: int, seed: int, scale: str, chunk_size: int,
         law: tuple[str, float | None] = ("uniform", None)) -> Run:
    """Targets, keys and sampling law of every tensor, and the chunks not yet on disk."""
    from slth_check.experiment.laws import fan_in_of, law_record, law_spec

    run = Run(out, w, n, chunk_size,
               names=[f"{t:04d}-{safe_name(name)}.npz" for t, (name, _) in enumerate(w.arrays)])
    for t, (_name, a) in enumerate(w.arrays):
        m = float(np.abs(a).max())
        s = m if scale == "max" and m > 0 else 1.0
        run.scales.append(s)
        run.targets.append((a.ravel() / s) if s != 1.0 else a.ravel())
        run.keys.append(tensor_key(seed, t))
        run.laws.append(law_spec(law, run.targets[-1], fan_in_of(a.shape)))
        run.law_records.append(law_record(law, run.targets[-1], fan_in_of(a.shape)))
        run.total += a.size
        if intact(run, run.tensor_path(t), (t, 0, a.size)):
            run.done += a.size
            continue
        for c, a0 in enumerate(range(0, a.size, chunk_size)):
            b0 = min(a0 + chunk_size, a.size)
            if intact(run, run.chunk_path(t, c), (t, a0, b0)):
                run.done += b0 - a0
            else:
                run.todo.append((t, c, a0, b0))
    return run


def consistent(run: Run, z: dict[str, np.ndarray], t: int, a0: int, b0: int) -> bool:
    """Do the results ``z`` of weights ``a0..b0-1`` of tensor ``t`` belong to this run:
    the right shapes and status codes, and every error the exact error of its mask on
    the run's own targets and samples?  (The seal alone is no proof: anyone can
    recompute it; an edited error, mask or a chunk of another run or place fails here.)"""
    from slth_check.experiment.laws import apply_spec

    k, nb = b0 - a0, -(-run.n // 8)
    e, m, s = z.get("errors"), z.get("masks"), z.get("status")
    if e is None or m is None or s is None or e.dtype != np.float64 or e.shape != (k,) \
            or m.dtype != np.uint8 or m.shape != (k, nb) or s.shape != (k,) \
            or not np.isin(s, list(STATUS_CODES.values())).all():
        return False
    masks = np.unpackbits(m, axis=1, count=run.n).astype(bool)
    if not np.array_equal(np.packbits(masks, axis=1), m):  # padding bits set
        return False
    V = apply_spec(samples(run.keys[t], a0, b0, run.n), run.laws[t])
    T = run.targets[t][a0:b0]
    return all(rounded_error(float(T[r]), V[r][masks[r]]) == e[r] for r in range(k))


def intact(run: Run, path: Path, where: tuple[int, int, int]) -> bool:
    """Is the checkpoint at ``path`` (weights ``where[1]..where[2]-1`` of tensor
    ``where[0]``) there, unedited (its ``sha256`` seal) and :func:`consistent`?  A file
    that fails is removed and recorded in ``run.recomputed``: it is computed again."""
    if not path.exists():
        return False
    try:
        z = load_npz(path, "--resume", text_keys=("sha256",),
                     kind="slth-check checkpoint .npz")
        ok = is_sealed(z) and consistent(run, z, *where)
    except (InputError, ValueError, OSError):
        ok = False
    if not ok:
        path.unlink(missing_ok=True)
        run.recomputed.append(path.name)
    return ok


def tensor_result(run: Run, t: int) -> dict[str, np.ndarray]:
    """Tensor ``t``'s final file (written from its chunks, which it replaces)."""
    name, a = run.w.arrays[t]
    path = run.tensor_path(t)
    if path.exists():
        z = load_npz(path, "--resume", text_keys=("sha256",),
                     kind="slth-check tensor result .npz")
    else:
        parts = [load_npz(run.chunk_path(t, c), "--resume", text_keys=("sha256",),
                          kind="slth-check chunk .npz") for c in range(run.chunks(t))]
        z = {"errors": np.concatenate([p["errors"] for p in parts]),
             "masks": np.concatenate([p["masks"] for p in parts]),
             "status": np.concatenate([p["status"] for p in parts])}
        z["shape"] = np.array(a.shape, dtype=np.int64)
        z["scale"] = np.array(run.scales[t])
        atomic_write(path, sealed_npz_bytes(z))
    for c in range(run.chunks(t)):  # the tensor file replaces its chunks
        run.chunk_path(t, c).unlink(missing_ok=True)
    if z["errors"].shape != (a.size,) or z["masks"].shape != (a.size, -(-run.n // 8)):
        raise InputError(f"--resume: {path} does not match tensor {name!r} "
                         f"({a.size} weights, n={run.n}): use another --out")
    return z


__all__ = ["Run", "consistent", "intact", "open_out", "plan", "safe_name", "tensor_result"]
