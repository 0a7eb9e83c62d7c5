"""Run claims into outcomes, and outcomes into a report (used by the CLI).

The one runner of the claims spine: per claim, its built-in instances through
``Claim.run``, its extra outcomes (proofs, negative controls), its stateless
``summary(outcomes, rng, profile)`` and its figures; then
:func:`slth_check.report.build_report` turns the records into the report.

Bulk work (issue 10) runs on the executor of ``--scheduler`` / ``--workers``
(:func:`slth_check.rss.executors.open_executor`).  A claim class that declares
an ``executor`` attribute (Lemma 1, Lemma 2, the calibration of C) takes part:
its instances, independent and seeded, are mapped over the executor in order,
and ``claim.executor`` is set for its own sweeps (the calibration sweep, the
Lemma 2 study).  Every task depends only on its inputs, so the report is the
same whatever the scheduler or worker count (timing and run id aside).
With the ``processes`` scheduler each claim's figures are drawn in the pool as soon
as the claim is done (:func:`slth_check.figures.report.submit_figures`), overlapping
the next claims; the same files whichever process draws them.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.claims import REGISTRY
from slth_check.claims.data_audit import data_audit
from slth_check.figures.report import attach_figures, submit_figures
from slth_check.fileio.files import ensure_writable_dir
from slth_check.progress import progress_iter
from slth_check.report import (
    ClaimRecord,
    build_report,
    package_versions,
    stable_hash,
    utc_now,
    write_report,
)
from slth_check.rss.executors import check_scheduler, check_workers, open_executor


def takes_executor(claim: Any) -> bool:
    """Does ``claim`` take part in the bulk path (its class declares ``executor``)?"""
    return hasattr(type(claim), "executor")


def run_instances(claim: Any, instances: Iterable[Any],
                  executor: Executor | None = None) -> list[Any]:
    """``claim.run`` on every instance, in order: on ``executor`` when the claim takes
    part in the bulk path (:func:`takes_executor`), else inline."""
    if executor is None or not takes_executor(claim):
        return [claim.run(inst) for inst in instances]
    todo = list(instances)
    run = partial(_run_fresh, type(claim))  # the claim without its executor travels
    return list(executor.map(run, todo, chunksize=max(1, len(todo) // 32)))


def _run_fresh(cls: type[Any], instance: Any) -> Any:
    """``cls().run(instance)`` (claims keep no state: a fresh one answers the same)."""
    return cls().run(instance)


def run_check(*, claim_ids: list[str] | None = None, profile: str = "ci", seed: int = 0,
              out_dir: Path | None = None, progress: bool | None = None,
              figures: bool = True, scheduler: str = "synchronous",
              workers: int | None = None) -> tuple[dict, Path]:
    """Run the claims on their built-in instances and write the report.

    ``scheduler`` / ``workers``: where the bulk work runs (see the module docs;
    ``slth-check check`` defaults to ``processes``); the report does not depend
    on them.  Returns the report dict and the folder it was written to.
    ``report.json`` is written last and atomically, so a folder without it is an
    interrupted run.
    """

    ids = claim_ids or list(REGISTRY)
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise ValueError(f"claims: unknown claim id(s) {unknown}; "
                         f"expected some of {list(REGISTRY)}")
    if profile not in ("ci", "dev", "thorough"):
        raise ValueError(f"profile: expected 'ci', 'dev' or 'thorough', got {profile!r}")
    check_scheduler(scheduler)
    check_workers(workers, "--workers")
    start = utc_now()
    run_id = _dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-s{seed}"
    out_dir = Path(out_dir) if out_dir is not None else Path("reports") / run_id
    ensure_writable_dir(out_dir, "--out")  # before the work: a read-only folder fails at once
    records, audit, summaries = [], [], {}
    drawn: dict[str, Any] = {}  # claim id -> future of its figures
    with open_executor(scheduler, workers) as (executor, _):
        # figures drawn in the local process pool overlap the next claims (never on Dask:
        # a remote worker would write them on its own disk)
        draw_on = executor if isinstance(executor, ProcessPoolExecutor) else None
        for cid in progress_iter(ids, desc="claims", enable=progress):
            claim = REGISTRY[cid]()
            if takes_executor(claim):
                claim.executor = executor  # type: ignore[attr-defined]
            rng = np.random.default_rng([seed, stable_hash(cid)])
            rec = ClaimRecord(claim)
            for outcome in run_instances(claim, claim.instances(rng, profile), executor):
                rec.add(outcome)
            for out in claim.extra_outcomes(rng, profile):
                rec.add(out)
            records.append(rec)
            audit.extend(claim.audit())
            summaries[cid] = claim.summary(rec.outcomes, rng, profile)
            if figures:
                drawn[cid] = submit_figures(draw_on, claim, summaries[cid], rec.outcomes,
                                            out_dir / "figures")
    audit.extend(data_audit())  # the paper's claims about its own data (section 3)
    run = {"id": run_id, "seed": seed, "profile": profile, "start": start, "end": utc_now(),
           "claims": ids, "versions": package_versions()}
    report = build_report(records, run=run, out_dir=out_dir, audit=audit, summaries=summaries)
    if figures:
        report["figures"] = attach_figures(report, drawn)
    write_report(out_dir, report)
    return report, out_dir


