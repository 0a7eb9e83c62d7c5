"""``slth-check check``: run the claims and write a report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from slth_check.cli.json_stdout import emit_json
from slth_check.cli.options import add_json_option, add_scheduler_options
from slth_check.errors import EXIT_OK, EXIT_VIOLATED

#: The claim ids of ``slth_check.claims.REGISTRY``, listed without importing the claims
#: (``--help`` stays fast); a test keeps the two equal.
CLAIM_IDS = ("definition1", "proposition1", "rss", "lemma3", "lueker", "lemma1", "lemma2",
             "theorem1", "calibration")


def overall_line(report: dict[str, Any], unexpected: list) -> str:
    """One line: ``violated`` with an unexpected violation (exit 1); ``holds`` only when
    every outcome holds (expected violations of negative controls aside); otherwise ``no
    violation found``, with the unknown outcomes counted (sampled or statistical evidence,
    or a limit reached: never a "holds")."""
    total = {k: sum(c["verdicts"][k] for c in report["claims"])
             for k in ("holds", "unknown", "hypotheses_unmet")}
    expected = sum(c["expected_violations"] for c in report["claims"])
    verdict = "violated" if unexpected else "no violation found" if total["unknown"] or \
        total["hypotheses_unmet"] else "holds"
    return (f"overall: {verdict} ({len(report['claims'])} claims: {total['holds']} outcomes "
            f"hold, {total['unknown']} unknown, {total['hypotheses_unmet']} hypotheses unmet, "
            f"{len(unexpected)} unexpected and {expected} expected violations)")


def run(args: argparse.Namespace) -> int:
    from slth_check.runner import run_check

    ids = [s for s in args.claims.split(",") if s] if args.claims else None
    report, out = run_check(claim_ids=ids, profile=args.profile, seed=args.seed,
                            out_dir=Path(args.out) if args.out else None,
                            scheduler=args.scheduler, workers=args.workers)
    unexpected = [v for v in report["violations"] if not v["expected"]]
    for c in report["claims"]:  # with --json -, these lines go to stderr (json_stdout)
        v = c["verdicts"]
        print(f"{c['id']:<14} instances {c['instances']:>4}  holds {v['holds']:>4}  "
              f"violated {v['violated']:>3}  unknown {v['unknown']:>3}  "
              f"hypotheses_unmet {v['hypotheses_unmet']:>3}  "
              f"expected violations {c['expected_violations']:>2}")
    print(f"report: {out / 'report.json'} and {out / 'report.md'}")
    print(overall_line(report, unexpected))
    if args.json == "-":
        emit_json(report)
    elif args.json:
        import json

        from slth_check.fileio.files import atomic_write

        atomic_write(Path(args.json), json.dumps(report, indent=1) + "\n")
    if getattr(args, "junit", None):
        from slth_check.report.junit import write_junit

        write_junit(report, args.junit, out_dir=out)
        print(f"JUnit XML: {args.junit}")
    if getattr(args, "html", None):
        from slth_check.report.html import write_html

        write_html(report, out, args.html)
        print(f"HTML report: {args.html}")
    return EXIT_VIOLATED if unexpected else EXIT_OK


def register(sub: Any) -> None:  # argparse's subparsers action (a private type)
    """Add ``check`` to the ``slth-check`` parser."""
    c = sub.add_parser("check", help="run the claims and write a report under reports/")
    c.add_argument("--claims", help="comma-separated claim ids, among: "
                   + ", ".join(CLAIM_IDS) + " (default: all)")
    c.add_argument("--profile", default="ci", choices=["ci", "dev", "thorough"],
                   help="how many instances: ci (the default, about 10 s), dev, thorough "
                   "(minutes)")
    c.add_argument("--seed", type=int, default=0,
                   help="seed of every random draw (same seed, same report; default 0)")
    c.add_argument("--out", help="output folder (default reports/<run-id>/); checked "
                   "writable before the run")
    add_json_option(c, "the report")
    c.add_argument("--junit", metavar="PATH", help="also write JUnit XML for CI: claims as "
                   "test suites, instances as test cases, violations as failures")
    c.add_argument("--html", metavar="PATH", help="also write one self-contained HTML file "
                   "(figures embedded, verdicts defined, replay commands)")
    add_scheduler_options(c)  # where the bulk work of Lemmas 1-2 and the calibration runs
    c.set_defaults(func=run)


__all__ = ["CLAIM_IDS", "register", "run"]
