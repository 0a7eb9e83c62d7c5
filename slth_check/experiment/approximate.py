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


Samples come from a counter-based stream, so any chunk is recomputed alone
(:mod:`slth_check.experiment.sampling` states the stream exactly).  The solver is
meet-in-the-middle with exact re-verification (:mod:`slth_check.rss.mitm`):
every status is ``optimal`` unless a pathological tie set exceeds its budget.

Work is cut into chunks of ``chunk_size`` weights of one tensor; each finished
chunk is written at once (``chunks/``, atomic rename), a tensor's final file
(``tensors/``) replaces its chunks, and ``approximate.json`` is written last.
After a crash or ``kill -9``, ``resume=True`` computes only the missing chunks
(every checkpoint carries a SHA-256 seal of its arrays, and every error it holds must
be the exact error of its mask on the run's own samples: one edited or damaged since,
resealed or not, is computed again and named in ``timing.json``'s
``checkpoints_recomputed``; a status edited to ``optimal`` cannot be told this way);
the outputs are byte-identical to an uninterrupted run (nothing in them
depends on time, scheduler or worker count; timings go to ``timing.json``).

The same solves in memory, without files: :func:`solve_tensors` (the one
scheduling loop and chunk task; ``reproduce paper`` draws through it).

Inputs (:func:`read_weights`, :mod:`slth_check.fileio.weights`): ``.npz`` (the
package's safe reader), ``.safetensors`` (header parsed here, every size checked
before reading), a PyTorch state dict (``torch.load(weights_only=True)``, extra
``torch``) and the authors' BSON.jl files (:func:`slth_check.fileio.bson.load_cnnslth`).
The summary (``approximate.md``, ``figure3.png``) is :mod:`slth_check.experiment.summary`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.errors import UsageError
from slth_check.experiment.checkpoints import Run, open_out, plan, tensor_result
from slth_check.experiment.sampling import (
    SAMPLING,
    STATUS_CODES,
    chunk_task,
    samples,
    tensor_key,
)
from slth_check.experiment.summary import (
    SCHEMA_VERSION,
    relative_max_error,
    report_dict,
    stats,
    summary_markdown,
)
from slth_check.fileio.files import atomic_write, sealed_npz_bytes, sha256
from slth_check.fileio.weights import (
    FORMATS,
    MAX_HEADER_BYTES,
    Weights,
    detect_format,
    read_safetensors,
    read_torch,
    read_weights,
)
from slth_check.progress import progress_bar
from slth_check.rss.executors import open_executor
from slth_check.rss.mitm import MITM_MAX_N
from slth_check.rss.windowed import windowed

#: Weights per chunk (one task, one checkpoint file).
DEFAULT_CHUNK_SIZE = 4096
SCALES = ("max", "none")


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


def _check_sparsest(eps: Any, n: int) -> None:
    from slth_check.rss.sparsest import MAX_N as SPARSEST_MAX_N

    if eps is not None and (isinstance(eps, bool) or not isinstance(eps, (int, float))
                            or not 0 <= eps < float("inf")):
        raise UsageError(f"--sparsest: expected a finite number >= 0, got {eps!r}")
    if eps is not None and n > SPARSEST_MAX_N:  # else refused after the whole solve
        raise UsageError(f"--sparsest: needs --n <= {SPARSEST_MAX_N} (the sparsest "
                         f"tickets' meet in the middle), got --n {n}")


def _add_sparsest(report: dict[str, Any], run: Run, seed: int, eps: float) -> None:
    """The sparsest tickets within ``eps`` (units of the scaled targets, as the errors) on
    the run's targets and very samples (:func:`slth_check.experiment.tickets
    .sparsest_density`): ``report["sparsest"]``, and per tensor beside its error."""
    from slth_check.experiment.tickets import sparsest_density

    d = sparsest_density(run.targets, run.n, seed, eps, laws=run.laws)
    report["sparsest"] = d
    for row, t in zip(report["tensors"], d["tensors"]):
        row["sparsest"] = t


Job = tuple[int, int, int, int]  # (tensor, chunk, first weight, past the last weight)
Chunk = tuple[np.ndarray, np.ndarray, np.ndarray]  # errors, packed masks, status codes


def _chunk_results(executor: Executor, jobs: Sequence[Job], targets: Sequence[np.ndarray],
                   keys: Sequence[int], n: int, window: int,
                   laws: Sequence[Any] | None = None) -> Iterator[tuple[Job, Chunk]]:
    """Each job's :func:`chunk_task` on ``executor`` through the one windowed loop
    (:func:`slth_check.rss.windowed.windowed`), as they finish."""
    return windowed(executor, chunk_task, jobs,
                    lambda j: (targets[j[0]][j[2]:j[3]], keys[j[0]], j[2], n,
                               None if laws is None else laws[j[0]]), window)


def _solve(run: Run, scheduler: str, workers: int | None,
           progress: bool | None) -> tuple[int, int]:
    """Solve the missing chunks, each written as it finishes: ``(weights solved, workers)``."""
    solved = 0
    with open_executor(scheduler, workers) as (executor, nw):
        bar = progress_bar(run.total, initial=run.done, desc="approximate", unit="inst",
                           enable=progress)
        try:
            for (t, c, a0, b0), (errors, packed, codes) in _chunk_results(
                    executor, run.todo, run.targets, run.keys, run.n, max(2, 4 * nw),
                    run.laws):
                atomic_write(run.chunk_path(t, c), sealed_npz_bytes(
                    {"errors": errors, "masks": packed, "status": codes}))
                solved += b0 - a0
                if bar is not None:
                    bar.update(b0 - a0)
        finally:
            if bar is not None:
                bar.close()
    return solved, nw


def solve_tensors(targets: Sequence[np.ndarray], n: int, seed: int, *,
                  executor: Executor | None = None, workers: int | None = None,
                  chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[Chunk]:
    """The exact solves of ``approximate`` in memory: per tensor ``t`` (its targets, flat)
    the errors (float64), masks (bool, (size, n)) and status codes.

    The same stream (``seed``, ``t``, index), the same :func:`chunk_task` and
    the same scheduling loop as :func:`approximate`, so the numbers are those of
    ``approximate`` with this seed on tensors whose (scaled) targets are these
    (``reproduce paper`` uses it).  On ``executor``, else ``workers`` processes
    of the shared pool; nothing depends on either or on ``chunk_size``.
    """
    _check_args(n, seed, chunk_size, SCALES[0])
    flat = [np.ascontiguousarray(np.asarray(T, dtype=np.float64).ravel()) for T in targets]
    jobs = [(t, c, a0, min(a0 + chunk_size, T.size)) for t, T in enumerate(flat)
            for c, a0 in enumerate(range(0, T.size, chunk_size))]
    keys = [tensor_key(seed, t) for t in range(len(flat))]
    out = [(np.empty(T.size), np.empty((T.size, -(-n // 8)), np.uint8),
            np.empty(T.size, np.uint8)) for T in flat]

    def collect(ex: Executor, window: int) -> None:
        for (t, _c, a0, b0), (e, m, c) in _chunk_results(ex, jobs, flat, keys, n, window):
            out[t][0][a0:b0], out[t][1][a0:b0], out[t][2][a0:b0] = e, m, c

    if executor is None:
        with open_executor("processes", workers) as (ex, nw):
            collect(ex, max(2, 4 * nw))
    else:
        collect(executor, max(2, len(jobs)))
    return [(e, np.unpackbits(m, axis=1, count=n).astype(bool), c) for e, m, c in out]


def _assemble(run: Run) -> tuple[list[dict[str, Any]], list[np.ndarray], list[np.ndarray]]:
    """Per tensor its row of ``approximate.json``, its errors and its status codes."""
    rows, all_err, all_codes = [], [], []
    for t, (name, a) in enumerate(run.w.arrays):
        z = tensor_result(run, t)
        all_err.append(z["errors"])
        all_codes.append(z["status"])
        s = run.scales[t]
        rows.append({"index": t, "name": name, "shape": list(a.shape), "weights": int(a.size),
                     "scale": s, "file": f"tensors/{run.names[t]}",
                     **stats(z["errors"], z["status"]),
                     "max_abs_error_unscaled": float(z["errors"].max()) * s,
                     "relative_max_error": relative_max_error(z["errors"], s, a)})
    try:
        (run.out / "chunks").rmdir()  # empty once every tensor file is written
    except OSError:
        pass
    return rows, all_err, all_codes


def _law_summary(law: str, run: Run) -> dict[str, Any]:
    """The law of the samples and Theorem 2's hypothesis on it, over every tensor."""
    unmet = [(name, r["why"]) for (name, _), r in zip(run.w.arrays, run.law_records)
             if r["theorem2"] != "holds"]
    return {"law": law, "theorem2": "hypotheses_unmet" if unmet else "holds",
            "why": "; ".join(f"{n}: {why}" for n, why in unmet[:5]) if unmet else
            run.law_records[0]["why"] if run.law_records else "",
            "tensors": [{"name": name, **r} for (name, _), r in zip(run.w.arrays,
                                                                     run.law_records)]}


def _manifest(weights: Path, w: Weights, n: int, seed: int, scale: str, chunk_size: int,
              include: Sequence[str], exclude: Sequence[str], law: str) -> dict[str, Any]:
    """What ``run.json`` records and ``--resume`` checks."""
    manifest = {
        "schema_version": SCHEMA_VERSION, "input": {"file": weights.name,
                                                    "sha256": sha256(weights),
                                                    "format": w.fmt},
        "n": n, "seed": seed, "scale": scale, "chunk_size": chunk_size,
        "include": list(include), "exclude": list(exclude),
        "tensors": [[name, list(a.shape)] for name, a in w.arrays]}
    if law != "uniform":  # the default's files stay those of earlier versions
        manifest["law"] = law
    return manifest


def approximate(weights: str | Path, out_dir: str | Path, *, n: int = 30, seed: int = 0,
                scheduler: str = "processes", workers: int | None = None,
                resume: bool = False, include: Sequence[str] = (),
                exclude: Sequence[str] = (), scale: str = "max",
                chunk_size: int = DEFAULT_CHUNK_SIZE, figure: bool = True,
                progress: bool | None = None, law: str = "uniform",
                sparsest: float | None = None) -> dict[str, Any]:
    """Run the experiment on ``weights`` into ``out_dir``; returns ``approximate.json``'s dict.

    ``sparsest`` (eps): also the sparsest ticket of every weight within eps and the
    density, per tensor and overall (``"sparsest"``, in the table and the figure).

    ``law`` (:mod:`slth_check.experiment.laws`): the samples' law, recorded in the report
    with the verdict of Theorem 2's hypothesis on it (default: the paper's U[-1, 1]).

    See the module docs for the method and the files.  Raises
    :class:`~slth_check.errors.UsageError` / :class:`~slth_check.errors.InputError`
    (exit 2) for bad arguments, files, or an ``out_dir`` holding another run.
    """
    from slth_check.experiment.laws import parse_law

    t_start = time.perf_counter()
    _check_args(n, seed, chunk_size, scale)
    _check_sparsest(sparsest, n)
    law_t = parse_law(law)
    weights = Path(weights)
    w = read_weights(weights, include, exclude)
    out = Path(out_dir)
    manifest = _manifest(weights, w, n, seed, scale, chunk_size, include, exclude, law)
    open_out(out, manifest, resume)
    run = plan(out, w, n, seed, scale, chunk_size, law_t)
    t_solve = time.perf_counter()
    solved, nw = _solve(run, scheduler, workers, progress)
    t_assemble = time.perf_counter()
    rows, all_err, all_codes = _assemble(run)
    report = report_dict(manifest, weights, w, n, seed, scale, figure, rows,
                     np.concatenate(all_err), np.concatenate(all_codes))
    report["law"] = _law_summary(law, run)
    if sparsest is not None:
        _add_sparsest(report, run, seed, float(sparsest))
    if figure:
        from slth_check.figures.common import save_png
        from slth_check.figures.paper import approximate_figure

        save_png(approximate_figure(report, all_err), out / "figure3.png")
    atomic_write(out / "approximate.md", summary_markdown(report))
    atomic_write(out / "approximate.json", json.dumps(report, indent=1) + "\n")
    wall = time.perf_counter() - t_start
    timing = {"total_seconds": wall, "solve_seconds": t_assemble - t_solve,
              "instances_solved_now": solved,
              "instances_per_second": solved / max(t_assemble - t_solve, 1e-9),
              "scheduler": scheduler, "workers": nw,
              "checkpoints_recomputed": run.recomputed}
    atomic_write(out / "timing.json", json.dumps(timing, indent=1) + "\n")
    report["timing"] = timing
    return report


__all__ = ["DEFAULT_CHUNK_SIZE", "FORMATS", "MAX_HEADER_BYTES", "SAMPLING", "SCALES",
           "SCHEMA_VERSION", "STATUS_CODES", "Weights", "approximate", "chunk_task",
           "detect_format", "read_safetensors", "read_torch", "read_weights",
           "samples", "solve_tensors", "summary_markdown", "tensor_key"]
