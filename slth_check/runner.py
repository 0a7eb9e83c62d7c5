"""Run claims into outcomes, and outcomes into a report (used by the CLI).

The one runner of the claims spine: per claim, its built-in instances through
``Claim.run``, its extra outcomes (proofs, negative controls), its stateless
``summary(outcomes, rng, profile)`` and its figures; then
:func:`slth_check.report.build_report` turns the records into the report.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from .claims import REGISTRY
from .files import ensure_writable_dir
from .progress import progress_iter
from .report import (
    ClaimRecord,
    build_report,
    package_versions,
    stable_hash,
    utc_now,
    write_report,
)
from .report.figures import write_figures


def run_check(*, claim_ids: list[str] | None = None, profile: str = "ci", seed: int = 0,
              out_dir: Path | None = None, progress: bool | None = None,
              figures: bool = True) -> tuple[dict, Path]:
    """Run the claims on their built-in instances and write the report.

    Returns the report dict and the folder it was written to.  ``report.json``
    is written last and atomically, so a folder without it is an interrupted run.
    """

    ids = claim_ids or list(REGISTRY)
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise ValueError(f"claims: unknown claim id(s) {unknown}; "
                         f"expected some of {list(REGISTRY)}")
    if profile not in ("ci", "dev", "thorough"):
        raise ValueError(f"profile: expected 'ci', 'dev' or 'thorough', got {profile!r}")
    start = utc_now()
    run_id = _dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-s{seed}"
    out_dir = Path(out_dir) if out_dir is not None else Path("reports") / run_id
    ensure_writable_dir(out_dir, "--out")  # before the work: a read-only folder fails at once
    records, audit, summaries = [], [], {}
    for cid in progress_iter(ids, desc="claims", enable=progress):
        claim = REGISTRY[cid]()
        rng = np.random.default_rng([seed, stable_hash(cid)])
        rec = ClaimRecord(claim)
        for inst in claim.instances(rng, profile):
            rec.add(claim.run(inst))
        for out in claim.extra_outcomes(rng, profile):
            rec.add(out)
        records.append(rec)
        audit.extend(claim.audit())
        summaries[cid] = claim.summary(rec.outcomes, rng, profile)
    run = {"id": run_id, "seed": seed, "profile": profile, "start": start, "end": utc_now(),
           "claims": ids, "versions": package_versions()}
    report = build_report(records, run=run, out_dir=out_dir, audit=audit, summaries=summaries)
    if figures:
        report["figures"] = write_figures(report, records, out_dir)
    write_report(out_dir, report)
    return report, out_dir


