"""The paper's experiment (section 3, Figure 3) for any network: ``slth-check approximate``.

Every weight ``w`` of the selected tensors is replaced by the exact-optimal
subset sum of ``n`` i.i.d. samples of ``Unif([-1, 1])`` (random subset sum,
Lueker's theorem as the paper uses it), after scaling the tensor into
``[-1, 1]`` by a per-tensor factor ``s`` (``--scale max``: ``s = max|w|``;
``none``: ``s = 1``).  The target of weight ``w`` is ``fl(w / s)``; its error is
``|fl(w / s) - sum of the chosen samples|`` computed exactly (integer
arithmetic over a power of two) and rounded once to float64.  With
``s = max|w|`` the largest error of a tensor is Figure 3's metric
``max|w - w'| / max|w|`` for that tensor.

Samples come from a counter-based stream, so any chunk is recomputed alone:
the key of tensor ``t`` is ``SeedSequence([seed, t])`` (128 bits), and the
samples of weight ``i`` (flat index) are the first ``n`` of the
``4 * ceil(n / 4)`` 64-bit outputs of ``numpy.random.Philox`` at counter
blocks ``i * ceil(n / 4)`` onwards, each mapped to ``2 * ((x >> 11) * 2**-53) - 1``
(uniform on the grid ``2**-52 Z`` in ``[-1, 1)``).  The solver is
meet-in-the-middle with exact re-verification (:mod:`slth_check.rss.mitm`):
every status is ``optimal`` unless a pathological tie set exceeds its budget.

Work is cut into chunks of ``chunk_size`` weights of one tensor; each finished
chunk is written at once (``chunks/``, atomic rename), a tensor's final file
(``tensors/``) replaces its chunks, and ``approximate.json`` is written last.
After a crash or ``kill -9``, ``resume=True`` computes only the missing chunks;
the outputs are byte-identical to an uninterrupted run (nothing in them
depends on time, scheduler or worker count; timings go to ``timing.json``).

Inputs (:func:`read_weights`): ``.npz`` (the package's safe reader), ``.safetensors``
(header parsed here, every size checked before reading), a PyTorch state dict
(``torch.load(weights_only=True)``, extra ``torch``) and the authors' BSON.jl
files (:func:`slth_check.artifacts.load_cnnslth`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import math
import re
import struct
import sys
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npformat

from .errors import InputError, UsageError
from .files import MAX_NPZ_BYTES, load_npz
from .report import atomic_write
from .rss.executors import open_executor
from .rss.mitm import MITM_MAX_N
from .tensors import format_bytes

SCHEMA_VERSION = 1
#: Weights per chunk (one task, one checkpoint file).
DEFAULT_CHUNK_SIZE = 4096
#: Status codes stored in the ``status`` arrays.
STATUS_CODES = {"optimal": 0, "feasible": 1, "infeasible": 2, "unknown": 3}
SCALES = ("max", "none")
#: Largest safetensors JSON header accepted.
MAX_HEADER_BYTES = 100 * 2**20
FORMATS = ("npz", "safetensors", "torch", "bson")
SAMPLING = ("Unif([-1,1)) on the grid 2^-52 Z: for tensor t the Philox-4x64 key is "
            "SeedSequence([seed, t]).generate_state(2, uint64); weight i (flat index) takes the "
            "first n of the 4*ceil(n/4) outputs from counter block i*ceil(n/4), each x -> "
            "2*((x >> 11) * 2^-53) - 1")


# ------------------------------------------------------------------ reading weights

@dataclass
class Weights:
    """The tensors read from one file: ``arrays`` selected, ``skipped`` with reasons."""

    fmt: str
    arrays: list[tuple[str, np.ndarray]]
    skipped: list[dict[str, str]]


def detect_format(path: Path) -> str:
    """The input format from the file's first bytes (and its suffix for BSON)."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    suffix = path.suffix.lower()
    if suffix == ".bson":
        return "bson"
    if suffix == ".safetensors":
        return "safetensors"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        # a zip: numpy's .npz, or PyTorch's zip-based state dict (a folder with data.pkl)
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise InputError(f"WEIGHTS: {path} is a truncated or corrupt zip archive "
                             f"({' '.join(str(exc).split())})") from exc
        if names and all(n.endswith(".npy") for n in names):
            return "npz"
        if any(n.endswith("data.pkl") for n in names):
            return "torch"
        return "npz"  # the safe reader names what is wrong
    if suffix in (".pt", ".pth", ".bin", ".ckpt"):
        return "torch"
    if suffix == ".npz":
        return "npz"
    if len(head) >= 8:
        (hlen,) = struct.unpack("<Q", head[:8])
        if 0 < hlen <= MAX_HEADER_BYTES and head[8:9] == b"{":
            return "safetensors"
    raise InputError(f"WEIGHTS: {path} is not a recognised weights file (expected .npz, "
                     f".safetensors, a PyTorch state dict .pt/.pth, or the authors' .bson)")


_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2",
              "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1",
              "BOOL": "?"}


def read_safetensors(path: Path, max_bytes: int = MAX_NPZ_BYTES) -> dict[str, np.ndarray]:
    """Read a ``.safetensors`` file: 8-byte little-endian header length, JSON header, data.

    Every entry's ``dtype``, ``shape`` and ``data_offsets`` are checked against
    each other and against the file's size before any array is read; BF16 is
    widened exactly to float32.  Raises :class:`InputError` naming the file.
    """
    size = path.stat().st_size
    if size < 8:
        raise InputError(f"WEIGHTS: {path} is {size} bytes, too short for a safetensors file")
    with open(path, "rb") as fh:
        (hlen,) = struct.unpack("<Q", fh.read(8))
        if hlen > min(MAX_HEADER_BYTES, size - 8):
            raise InputError(f"WEIGHTS: {path} claims a safetensors header of {hlen} bytes but "
                             f"the file holds {size} bytes (or the limit "
                             f"{format_bytes(MAX_HEADER_BYTES)} is passed): truncated or "
                             f"not a safetensors file")
        raw = fh.read(hlen)
        try:
            header = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"WEIGHTS: {path} has no valid safetensors JSON header "
                             f"({' '.join(str(exc).split())})") from exc
        if not isinstance(header, dict):
            raise InputError(f"WEIGHTS: {path} safetensors header is not a JSON object")
        base = 8 + hlen
        data_len = size - base
        plan = []
        total = 0
        for name, ent in header.items():
            if name == "__metadata__":
                continue
            if not isinstance(ent, dict) or not {"dtype", "shape", "data_offsets"} <= ent.keys():
                raise InputError(f"WEIGHTS: {path} safetensors entry {name!r} lacks dtype, "
                                 f"shape or data_offsets")
            dt, shape, offs = ent["dtype"], ent["shape"], ent["data_offsets"]
            if dt not in _ST_DTYPES:
                raise InputError(f"WEIGHTS: {path} tensor {name!r} has the unsupported dtype "
                                 f"{dt!r}")
            if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0
                                                    for s in shape)):
                raise InputError(f"WEIGHTS: {path} tensor {name!r} has an invalid shape "
                                 f"{shape!r}")
            if not (isinstance(offs, list) and len(offs) == 2 and all(isinstance(o, int)
                                                                       for o in offs)
                    and 0 <= offs[0] <= offs[1] <= data_len):
                raise InputError(f"WEIGHTS: {path} tensor {name!r} has data_offsets {offs!r} "
                                 f"outside the {data_len} data bytes: truncated or corrupt")
            dtype = np.dtype(_ST_DTYPES[dt])
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes != offs[1] - offs[0]:
                raise InputError(f"WEIGHTS: {path} tensor {name!r} claims shape {shape} of "
                                 f"{dt} ({format_bytes(nbytes)}) but holds "
                                 f"{format_bytes(offs[1] - offs[0])}: header and data do not "
                                 f"match")
            total += nbytes
            if total > max_bytes:
                raise InputError(f"WEIGHTS: {path} holds more than {format_bytes(max_bytes)} "
                                 f"of tensors (limit slth_check.files.MAX_NPZ_BYTES)")
            plan.append((name, dt, dtype, shape, offs))
        out: dict[str, np.ndarray] = {}
        for name, dt, dtype, shape, offs in plan:
            fh.seek(base + offs[0])
            buf = fh.read(offs[1] - offs[0])
            if len(buf) != offs[1] - offs[0]:
                raise InputError(f"WEIGHTS: {path} tensor {name!r} is truncated")
            arr = np.frombuffer(buf, dtype=dtype).reshape(shape)
            if dt == "BF16":
                arr = (arr.astype(np.uint32) << 16).view(np.float32)
            out[name] = arr
    return out


def _flatten_state(obj: Any, prefix: str, out: dict[str, Any], depth: int = 0) -> None:
    if depth > 8:
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten_state(v, f"{prefix}{k}" if not prefix else f"{prefix}.{k}", out, depth + 1)
    else:
        out[prefix] = obj


def read_torch(path: Path) -> dict[str, np.ndarray]:
    """A PyTorch state dict via ``torch.load(weights_only=True)`` (never unpickles code)."""
    try:
        import torch
    except ImportError as exc:
        raise UsageError(f"WEIGHTS: {path} is a PyTorch file; reading it needs torch: "
                         "pip install 'slth-check[torch]'") from exc
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a bad file
        raise InputError(f"WEIGHTS: {path} is not a PyTorch state dict readable with "
                         f"weights_only=True ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:200]})") from exc
    flat: dict[str, Any] = {}
    _flatten_state(obj, "", flat)
    out = {}
    for k, v in flat.items():
        if isinstance(v, torch.Tensor):
            t = v.detach().cpu()
            if t.dtype == torch.bfloat16:
                t = t.float()
            out[k] = t.numpy()
    if not out:
        raise InputError(f"WEIGHTS: {path} holds no tensor")
    return out


def read_weights(path: str | Path, include: Sequence[str] = (),
                 exclude: Sequence[str] = ()) -> Weights:
    """Read the weights file and select tensors by ``fnmatch`` patterns.

    A tensor is kept when it matches one of ``include`` (all if none) and none
    of ``exclude``; integer, boolean and empty tensors are skipped (listed in
    ``skipped`` with the reason).  Non-finite weights raise
    :class:`InputError` naming the tensor.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"WEIGHTS: no such file {path}")
    if path.stat().st_size == 0:
        raise InputError(f"WEIGHTS: {path} is empty (0 bytes)")
    fmt = detect_format(path)
    if fmt == "npz":
        raw = load_npz(path, "WEIGHTS", kind=".npz archive of arrays")
    elif fmt == "safetensors":
        raw = read_safetensors(path)
    elif fmt == "torch":
        raw = read_torch(path)
    else:
        from .artifacts import load_cnnslth

        try:
            raw = {k: v for k, v in load_cnnslth(path).items() if k != "test_acc"}
        except InputError as exc:
            raise InputError(f"WEIGHTS: {' '.join(str(exc).split())}") from exc
    arrays, skipped = [], []
    for name in sorted(raw):
        arr = raw[name]
        if include and not any(fnmatch.fnmatchcase(name, p) for p in include):
            continue
        if any(fnmatch.fnmatchcase(name, p) for p in exclude):
            continue
        if arr.dtype.kind != "f":
            skipped.append({"name": name, "reason": f"dtype {arr.dtype} is not floating point"})
            continue
        if arr.size == 0:
            skipped.append({"name": name, "reason": "empty"})
            continue
        a = np.asarray(arr, dtype=np.float64)
        if not np.all(np.isfinite(a)):
            raise InputError(f"WEIGHTS: {path} tensor {name!r} holds NaN or Inf")
        arrays.append((name, a))
    if not arrays:
        raise InputError(f"WEIGHTS: {path} has no floating-point tensor matching --include "
                         f"{list(include) or ['*']} and --exclude {list(exclude)}")
    return Weights(fmt, arrays, skipped)


# ------------------------------------------------------------------ sampling and chunks

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
    codes = np.array([STATUS_CODES[s] for s in status], dtype=np.uint8)
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


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "tensor"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ------------------------------------------------------------------ the run

def _check_args(n: Any, seed: Any, chunk_size: Any, scale: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MITM_MAX_N:
        raise UsageError(f"--n: expected an integer in 1..{MITM_MAX_N} (exact meet in the "
                         f"middle), got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"--seed: expected a non-negative integer, got {seed!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise UsageError(f"--chunk-size: expected a positive integer, got {chunk_size!r}")
    if scale not in SCALES:
        raise UsageError(f"--scale: expected one of {SCALES}, got {scale!r}")


def _stats(errors: np.ndarray, codes: np.ndarray) -> dict[str, Any]:
    return {"max_error": float(errors.max()), "median_error": float(np.median(errors)),
            "p99_error": float(np.percentile(errors, 99)),
            "not_proven_optimal": int(np.sum(codes != STATUS_CODES["optimal"]))}


def approximate(weights: str | Path, out_dir: str | Path, *, n: int = 30, seed: int = 0,
                scheduler: str = "processes", workers: int | None = None,
                resume: bool = False, include: Sequence[str] = (),
                exclude: Sequence[str] = (), scale: str = "max",
                chunk_size: int = DEFAULT_CHUNK_SIZE, figure: bool = True,
                progress: bool | None = None) -> dict[str, Any]:
    """Run the experiment on ``weights`` into ``out_dir``; returns ``approximate.json``'s dict.

    See the module docs for the method and the files.  Raises
    :class:`~slth_check.errors.UsageError` / :class:`~slth_check.errors.InputError`
    (exit 2) for bad arguments, files, or an ``out_dir`` holding another run.
    """
    t_start = time.perf_counter()
    _check_args(n, seed, chunk_size, scale)
    weights = Path(weights)
    w = read_weights(weights, include, exclude)
    out = Path(out_dir)
    chunk_dir, tensor_dir = out / "chunks", out / "tensors"
    manifest = {
        "schema_version": SCHEMA_VERSION, "input": {"file": weights.name,
                                                    "sha256": _sha256(weights),
                                                    "format": w.fmt},
        "n": n, "seed": seed, "scale": scale, "chunk_size": chunk_size,
        "include": list(include), "exclude": list(exclude),
        "tensors": [[name, list(a.shape)] for name, a in w.arrays]}
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
        atomic_write(man_path, json.dumps(manifest, indent=1) + "\n")
    chunk_dir.mkdir(parents=True, exist_ok=True)
    tensor_dir.mkdir(parents=True, exist_ok=True)
    for stale in list(chunk_dir.glob(".*.tmp")) + list(tensor_dir.glob(".*.tmp")):
        stale.unlink(missing_ok=True)  # temporary files of a killed run

    names = [f"{t:04d}-{_safe_name(name)}.npz" for t, (name, _) in enumerate(w.arrays)]
    scales, targets, keys, todo = [], [], [], []
    total = done = 0
    for t, (_name, a) in enumerate(w.arrays):
        m = float(np.abs(a).max())
        s = m if scale == "max" and m > 0 else 1.0
        scales.append(s)
        targets.append((a.ravel() / s) if s != 1.0 else a.ravel())
        keys.append(tensor_key(seed, t))
        total += a.size
        if (tensor_dir / names[t]).exists():
            done += a.size
            continue
        for c, a0 in enumerate(range(0, a.size, chunk_size)):
            b0 = min(a0 + chunk_size, a.size)
            if (chunk_dir / f"{t:04d}-{c:07d}.npz").exists():
                done += b0 - a0
            else:
                todo.append((t, c, a0, b0))
    t_solve = time.perf_counter()
    solved = 0
    with open_executor(scheduler, workers) as (executor, nw):
        bar = _bar(total, done, progress)
        pending: dict[Future, tuple[int, int, int, int]] = {}
        queue = list(reversed(todo))
        window = max(2, 4 * nw)
        try:
            while queue or pending:
                while queue and len(pending) < window:
                    t, c, a0, b0 = queue.pop()
                    fut = executor.submit(chunk_task, targets[t][a0:b0], keys[t], a0, n)
                    pending[fut] = (t, c, a0, b0)
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in finished:
                    t, c, a0, b0 = pending.pop(fut)
                    errors, packed, codes = fut.result()
                    atomic_write(chunk_dir / f"{t:04d}-{c:07d}.npz",
                                 npz_bytes({"errors": errors, "masks": packed,
                                            "status": codes}))
                    solved += b0 - a0
                    if bar is not None:
                        bar.update(b0 - a0)
        finally:
            for fut in pending:
                fut.cancel()
            if bar is not None:
                bar.close()
    t_assemble = time.perf_counter()
    rows, all_err, all_codes = [], [], []
    for t, (name, a) in enumerate(w.arrays):
        path = tensor_dir / names[t]
        if path.exists():
            z = load_npz(path, "--resume", kind="slth-check tensor result .npz")
        else:
            parts = [load_npz(chunk_dir / f"{t:04d}-{c:07d}.npz", "--resume",
                              kind="slth-check chunk .npz")
                     for c in range(-(-a.size // chunk_size))]
            z = {"errors": np.concatenate([p["errors"] for p in parts]),
                 "masks": np.concatenate([p["masks"] for p in parts]),
                 "status": np.concatenate([p["status"] for p in parts])}
            z["shape"] = np.array(a.shape, dtype=np.int64)
            z["scale"] = np.array(scales[t])
            atomic_write(path, npz_bytes(z))
        for c in range(-(-a.size // chunk_size)):  # the tensor file replaces its chunks
            (chunk_dir / f"{t:04d}-{c:07d}.npz").unlink(missing_ok=True)
        if z["errors"].shape != (a.size,) or z["masks"].shape != (a.size, -(-n // 8)):
            raise InputError(f"--resume: {path} does not match tensor {name!r} "
                             f"({a.size} weights, n={n}): use another --out")
        all_err.append(z["errors"])
        all_codes.append(z["status"])
        mx = float(np.abs(a).max())
        rows.append({"index": t, "name": name, "shape": list(a.shape), "weights": int(a.size),
                     "scale": scales[t], "file": f"tensors/{names[t]}",
                     **_stats(z["errors"], z["status"]),
                     "max_abs_error_unscaled": float(z["errors"].max()) * scales[t],
                     "relative_max_error": (float(z["errors"].max()) * scales[t] / mx
                                            if mx > 0 else float(z["errors"].max()))})
    try:
        chunk_dir.rmdir()  # empty once every tensor file is written
    except OSError:
        pass
    errs, codes = np.concatenate(all_err), np.concatenate(all_codes)
    report = {
        "schema_version": SCHEMA_VERSION, "command": "slth-check approximate",
        "input": manifest["input"], "n": n, "seed": seed,
        "method": "meet in the middle, every answer verified in exact integer arithmetic "
                  "(status optimal = proven exact optimum)",
        "sampling": SAMPLING,
        "scale": {"mode": scale, "meaning": "target = fl(w / s) per tensor, s = max|w| "
                  "(1 for an all-zero tensor)" if scale == "max" else "target = w (s = 1)"},
        "errors": "|target - subset sum|, exact, rounded once to float64 (units of w / s: "
                  "with --scale max the tensor's max error is Figure 3's max|w - w'|/max|w|)",
        "files": {"tensors": "tensors/<index>-<name>.npz: errors (float64), masks "
                  "(np.packbits(mask, axis=1), n bits per weight in flat C order), status "
                  f"(uint8 codes {STATUS_CODES}), shape, scale",
                  "figure": "figure3.png" if figure else None,
                  "summary": "approximate.md", "timing": "timing.json (not reproducible)"},
        "tensors": rows,
        "overall": {"weights": int(errs.size), **_stats(errs, codes),
                    "figure3": max(r["relative_max_error"] for r in rows)},
        "skipped": w.skipped,
        "authors_stored": _authors_stored(weights, w, n) if w.fmt == "bson" else None,
    }
    if figure:
        _figure(rows, all_err, n, out / "figure3.png")
    atomic_write(out / "approximate.md", summary_markdown(report))
    atomic_write(out / "approximate.json", json.dumps(report, indent=1) + "\n")
    wall = time.perf_counter() - t_start
    timing = {"total_seconds": wall, "solve_seconds": t_assemble - t_solve,
              "instances_solved_now": solved,
              "instances_per_second": solved / max(t_assemble - t_solve, 1e-9),
              "scheduler": scheduler, "workers": nw}
    atomic_write(out / "timing.json", json.dumps(timing, indent=1) + "\n")
    report["timing"] = timing
    return report


def _authors_stored(weights: Path, w: Weights, n: int) -> dict[str, Any] | None:
    """Figure 3 from the authors' stored RSS result for this n, when it lies beside WEIGHTS.

    ``<stem>-RSS-n<n>-hInf.bson`` (their ``saves/`` naming): per tensor the
    relative error ``max|w - w_stored| / max|w|`` and its maximum (the paper's
    Figure 3 value), for the selected tensors that the file holds.
    """
    from .artifacts import load_cnnslth

    path = weights.parent / f"{weights.stem}-RSS-n{n}-hInf.bson"
    if not path.is_file():
        return None
    try:
        stored = load_cnnslth(path)
    except InputError as exc:
        raise InputError(f"WEIGHTS: the authors' stored result {' '.join(str(exc).split())}") \
            from exc
    per = {name: float(np.abs(a - stored[name]).max() / np.abs(a).max())
           for name, a in w.arrays if name in stored and stored[name].shape == a.shape
           and np.abs(a).max() > 0}
    if not per:
        return None
    return {"file": path.name, "relative_max_error": per, "figure3": max(per.values()),
            "meaning": "max|w - w_stored| / max|w| per tensor; figure3 is the maximum over "
                       "the selected tensors it holds (the paper's Figure 3)"}


def _bar(total: int, done: int, progress: bool | None):  # noqa: ANN202 - tqdm or None
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, initial=done, unit="inst", unit_scale=True, desc="approximate",
                smoothing=0.1, file=sys.stderr)


def summary_markdown(report: dict[str, Any]) -> str:
    """The summary table: max / median / 99th percentile error per tensor and overall."""
    lines = [f"# slth-check approximate: {report['input']['file']}, n = {report['n']}, "
             f"seed = {report['seed']}", "",
             f"Scale: {report['scale']['meaning']}. Errors: {report['errors']}.", "",
             "| tensor | shape | weights | scale | max | median | p99 | not proven optimal |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["tensors"] + [dict(report["overall"], name="**overall**", shape="",
                                       scale="")]:
        sc = f"{r['scale']:.4g}" if r["scale"] != "" else ""
        lines.append(f"| {r['name']} | {r['shape']} | {r['weights']} | {sc} | "
                     f"{r['max_error']:.3g} | {r['median_error']:.3g} | {r['p99_error']:.3g} | "
                     f"{r['not_proven_optimal']} |")
    lines += ["", f"Figure 3 (max over tensors of max|w - w'| / max|w|, w' = s x subset "
                  f"sum): {report['overall']['figure3']:.3g}"]
    auth = report.get("authors_stored")
    if auth:
        lines.append(f"The authors' stored result ({auth['file']}): {auth['figure3']:.3g} "
                     f"(" + ", ".join(f"{k} {v:.3g}" for k, v in
                                      auth["relative_max_error"].items()) + ")")
    if report["skipped"]:
        lines += ["", "Skipped: " + "; ".join(f"{s['name']} ({s['reason']})"
                                              for s in report["skipped"])]
    return "\n".join(lines) + "\n"


def _figure(rows: list[dict], errors: list[np.ndarray], n: int, path: Path) -> None:
    """Figure-3 style: per tensor the empirical CDF of the exact errors (log scale)."""
    from .report.figures import pyplot, save_png

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for r, e in zip(rows[:12], errors[:12]):
        pos = np.sort(e[e > 0])
        if pos.size:
            y = (np.arange(1, pos.size + 1) + (e.size - pos.size)) / e.size
            ax.step(pos, y, where="post", label=f"{r['name']} (max {r['max_error']:.2g})")
    ax.set_xscale("log")
    ax.set_xlabel("exact error |w/s - subset sum|")
    ax.set_ylabel("fraction of weights")
    ax.set_title(f"exact-optimal random subset sum, n = {n}")
    ax.legend(fontsize=7)
    save_png(fig, path)


__all__ = ["DEFAULT_CHUNK_SIZE", "SAMPLING", "SCHEMA_VERSION", "STATUS_CODES", "Weights",
           "approximate", "chunk_task", "detect_format", "npz_bytes", "read_safetensors",
           "read_torch", "read_weights", "samples", "summary_markdown", "tensor_key"]
