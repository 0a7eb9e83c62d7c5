"""The paper's Figure 3 over several n (``slth-check approximate --n 5,10,30`` or
``--figure3``): one resumable :func:`~slth_check.experiment.approximate.approximate` run
per n in ``OUT/n<n>/``, then the table of the runs (``OUT/figure3.md`` and
``figure3.json``, :func:`~slth_check.experiment.summary.figure3_table`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from slth_check.errors import UsageError
from slth_check.experiment.approximate import approximate
from slth_check.experiment.summary import figure3_table
from slth_check.fileio.files import atomic_write, ensure_writable_dir
from slth_check.rss.executors import check_scheduler, check_workers

__all__ = ["approximate_runs"]


def approximate_runs(weights: str | Path, out_dir: str | Path, ns: Sequence[int], *,
                     scheduler: str = "processes", workers: int | None = None,
                     **options: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Run :func:`~slth_check.experiment.approximate.approximate` for every n of ``ns``
    (``options``: its other keywords), into ``out_dir`` itself for one n, else into
    ``out_dir/n<n>/``.  Returns the runs' reports and, for several n, the Figure-3 table
    in Markdown (also written with its JSON twin beside the runs; ``None`` for one n).

    The scheduler, the workers and ``out_dir`` are checked before any run starts: a
    usage error (exit 2) names the argument."""
    check_scheduler(scheduler)
    if workers is not None:
        check_workers(workers, "--workers")
    out = ensure_writable_dir(Path(out_dir), "--out")
    found = [f for f in ("figure3.md", "figure3.json") if (out / f).exists()]
    if len(ns) > 1 and found and not options.get("resume"):  # not ours: kept
        raise UsageError(f"--out: {out} holds {', '.join(found)} already: add --resume to "
                         f"finish that run, or choose another folder")
    reports = []
    for n in ns:
        sub = out if len(ns) == 1 else ensure_writable_dir(out / f"n{n}", "--out")
        reports.append(approximate(weights, sub, n=n, scheduler=scheduler, workers=workers,
                                   **options))
    if len(ns) == 1:
        return reports, None
    md, data = figure3_table(reports)
    atomic_write(out / "figure3.md", md)
    atomic_write(out / "figure3.json", json.dumps(data, indent=1) + "\n")
    return reports, md
