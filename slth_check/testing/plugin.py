"""pytest plugin registered by slth-check: options, Hypothesis profiles, reports.

Silent and cheap in every other project of the environment: nothing is printed
unless ``--slth-impl`` is given, nothing of slth-check (NumPy, SciPy) is imported
at start-up, and the Hypothesis profiles carry a prefix so they never shadow a
project's own: ``slth-ci`` (derandomised, 25 examples; the default of this
repository, see its conftest.py), ``slth-dev`` (100) and ``slth-thorough`` (1000).

Options: ``--slth-impl MODULE:ATTR`` (default ``$SLTH_CHECK_IMPL``) puts another conv2d
under the Definition 1 properties of ``slth_check.properties``; it is resolved once, at
configuration, by :func:`load_impl` (``pkgutil.resolve_name``, the current folder on
``sys.path``; a usage error if it cannot be loaded). ``--slth-xfails FILE`` marks the
listed test ids xfail (one a line, ``#`` comments; as array-api-tests' xfails file).
``--slth-report DIR`` writes report.json and report.md of the run.
"""

from __future__ import annotations

import datetime
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PROFILES = {"slth-ci": {"max_examples": 25, "derandomize": True, "print_blob": True},
            "slth-dev": {"max_examples": 100},
            "slth-thorough": {"max_examples": 1000}}


def register_profiles() -> None:
    """Register the ``slth-*`` Hypothesis profiles (idempotent)."""
    from hypothesis import HealthCheck, settings

    common = {"deadline": None,
              "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
    for name, kw in PROFILES.items():
        settings.register_profile(name, **kw, **common)  # type: ignore[arg-type]  # hypothesis stub: **kwargs vs parent


def pytest_addoption(parser) -> None:
    group = parser.getgroup("slth-check")
    group.addoption("--slth-impl", default=os.environ.get("SLTH_CHECK_IMPL") or None,
                    metavar="MODULE:ATTR",
                    help="a conv2d to put under the Definition 1 properties (default: "
                         "$SLTH_CHECK_IMPL, else slth_check.conv2d)")
    group.addoption("--slth-paddings", default=None, metavar="MODES",
                    help="the padding modes the --slth-impl function implements, comma "
                         "separated (default: all; a function without a padding= keyword "
                         "needs --slth-paddings paper)")
    group.addoption("--slth-strides", default=None, metavar="S,...",
                    help="the strides it implements (default 1,2; a function without a "
                         "stride= keyword needs --slth-strides 1)")
    group.addoption("--slth-xfails", default=None, metavar="FILE",
                    help="mark the tests whose ids are listed in FILE (one a line, '#' "
                         "comments) as xfail")
    group.addoption("--slth-report", default=None, metavar="DIR",
                    help="write report.json and report.md of this run into DIR")


def pytest_report_header(config) -> list[str]:
    impl = config.getoption("--slth-impl")
    return [f"slth-check: conv2d under test = {impl}"] if impl else []


def pytest_configure(config) -> None:
    register_profiles()
    spec = config.getoption("--slth-impl")
    config.stash[IMPL_KEY] = load_impl(spec, config.getoption("--slth-paddings", None),
                                       config.getoption("--slth-strides", None)) \
        if spec else None  # a usage error: exit 4
    out = config.getoption("--slth-report")
    if out:
        config._slth_recorder = _Recorder(out, config)
        config.pluginmanager.register(config._slth_recorder, "slth-report")


IMPL_KEY: pytest.StashKey[Callable[..., Any] | None] = pytest.StashKey()
"""Where ``pytest_configure`` keeps the conv2d named by ``--slth-impl`` (None: the reference)."""


def load_impl(spec: str | None, paddings: str | None = None,
              strides: str | None = None) -> Any:  # a slth_check.testing.user_conv.UserConv
    """Load ``MODULE:ATTR`` through the package's one loader
    (:func:`slth_check.validate.load_callable`: the current folder on ``sys.path``,
    every import failure one clear message), its signature checked against the modes
    of ``--slth-paddings`` / ``--slth-strides`` (:func:`slth_check.testing.user_conv.user_conv`),
    as a ``pytest.UsageError``."""
    from slth_check.testing.user_conv import parse_paddings, parse_strides, user_conv

    try:
        return user_conv(spec, parse_paddings(paddings), parse_strides(strides))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from exc


def read_xfails(path: str) -> list[str]:
    """Test ids of an xfails file: one a line, blank lines and ``#`` comments ignored."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise pytest.UsageError(f"--slth-xfails: cannot read {path!r}: {exc}") from exc
    return [line.split("#", 1)[0].strip() for line in lines
            if line.split("#", 1)[0].strip()]


def xfail_matches(test_id: str, nodeid: str) -> bool:
    """Whether a listed id names this test: the whole node id, or its tail after a
    ``/`` or ``::`` (so ``test_definition1.py::test_x`` matches wherever the suite is
    installed), with or without the parameters in brackets."""
    for nid in (nodeid, nodeid.split("[", 1)[0]):
        if nid == test_id or nid.endswith(("/" + test_id, "::" + test_id)):
            return True
    return False


def pytest_collection_modifyitems(config, items) -> None:
    """Mark the tests listed by ``--slth-xfails`` as xfail (non-strict)."""
    path = config.getoption("--slth-xfails", None)
    if not path:
        return
    ids = read_xfails(path)
    used: set[str] = set()
    for item in items:
        names = (item.nodeid, f"{item.path.name}::{item.name}")  # the file's name always
        hits = [i for i in ids if any(xfail_matches(i, n) for n in names)]
        if hits:
            used.update(hits)
            item.add_marker(pytest.mark.xfail(reason=f"listed in --slth-xfails {path}"))
    unused = [i for i in ids if i not in used]
    if unused:

        warnings.warn(pytest.PytestConfigWarning(
            f"--slth-xfails {path}: no test matches {', '.join(unused)}"), stacklevel=1)


class _Recorder:
    """Collects test outcomes, Hypothesis statistics and falsifying examples."""

    def __init__(self, out: str, config) -> None:

        self.out = out
        self.config = config
        self.tests: dict[str, dict] = {}
        self.docs: dict[str, str] = {}
        self.start = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

    def pytest_runtest_setup(self, item) -> None:
        mod = getattr(item, "module", None)
        doc = (getattr(mod, "__doc__", None) or "").strip().splitlines()
        if doc:
            self.docs[item.nodeid.split("::")[0]] = doc[0]

    def pytest_runtest_logreport(self, report) -> None:
        entry = self.tests.setdefault(report.nodeid, {"nodeid": report.nodeid,
                                                      "outcome": "passed", "statistics": None,
                                                      "targets": {},
                                                      "falsifying_example": None})
        if report.failed:
            entry["outcome"] = "failed"
            hyp = "\n".join(body for title, body in report.sections if "Hypothesis" in title)
            text = hyp + "\n" + (report.longreprtext or "")
            marks = [text.find(m) for m in ("Falsifying example", "Failing test case")]
            idx = min((i for i in marks if i >= 0), default=-1)
            entry["falsifying_example"] = text[idx:idx + 4000] if idx >= 0 else text[-2000:]
        elif report.skipped and entry["outcome"] != "failed":
            entry["outcome"] = "skipped"
        stats = report.__dict__.get("hypothesis-statistics") or getattr(report, "_slth_stats",
                                                                       None)
        if stats:
            entry["statistics"] = stats
            entry["targets"] = _parse_targets(stats)

    def pytest_sessionfinish(self, session) -> None:
        write_pytest_report(self, session)


def _parse_targets(stats: str) -> dict[str, float]:
    """Highest ``target()`` scores from Hypothesis's statistics text."""

    out = {}
    for m in re.finditer(r"([-+0-9.eE]+|inf|nan)\s+\(label='([^']*)'\)", stats):
        try:
            out[m.group(2)] = float(m.group(1))
        except ValueError:
            continue
    return out


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_makereport(item, call):
    """Attach Hypothesis's statistics to the teardown report (read by --slth-report)."""
    outcome = yield
    report = outcome.get_result()
    stats = getattr(item, "hypothesis_statistics", None)
    if stats and report.when == "teardown":
        report._slth_stats = stats


def write_pytest_report(rec: _Recorder, session) -> None:
    """Write report.json / report.md in the shape of ``slth-check check``'s report."""

    from slth_check.report import package_versions, report_document, write_report

    by_claim: dict[str, list[dict]] = {}
    for t in rec.tests.values():
        mod = t["nodeid"].split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        t["claim"] = mod.removeprefix("test_")
        by_claim.setdefault(t["claim"], []).append(t)
    claims, violations = [], []
    for cid, tests in sorted(by_claim.items()):
        verdicts = {"holds": 0, "violated": 0, "unknown": 0, "hypotheses_unmet": 0}
        for t in tests:
            verdicts[{"passed": "holds", "failed": "violated", "skipped": "unknown"}[
                t["outcome"]]] += 1
            if t["outcome"] == "failed":
                violations.append({"claim": cid, "expected": False, "observed": None,
                                   "bound": None, "witness": None,
                                   "detail": (t["falsifying_example"] or "")[:4000]})
        path = tests[0]["nodeid"].split("::")[0]
        claims.append({"id": cid, "statement": rec.docs.get(path, f"pytest module {path}"),
                       "hypotheses": "",
                       "instances": len(tests), "verdicts": verdicts,
                       "expected_violations": 0, "methods": ["pytest"], "worst": None,
                       "ratios": {"count": 0}, "notes": [], "summary": {}})
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    impl = rec.config.getoption("--slth-impl")
    profile = rec.config.getoption("--hypothesis-profile", None) or "slth-ci"
    run = {"id": "pytest-" + now.replace(":", ""), "seed": None, "profile": str(profile),
           "start": rec.start, "end": now, "claims": sorted(by_claim),
           "versions": package_versions(),
           "config": {"slth_impl": impl or "slth_check.conv2d (reference)",
                      "args": list(rec.config.invocation_params.args)}}
    report = report_document(run, claims, violations, [], pytest={
        "tests": sorted(rec.tests.values(), key=lambda t: t["nodeid"])})
    write_report(Path(rec.out), report, _pytest_md(report))


def _pytest_md(report: dict) -> str:
    lines = ["", "## pytest run", "",
             f"Configuration: conv2d under test = {report['run']['config']['slth_impl']}", "",
             "| test | outcome | highest target() scores |", "|---|---|---|"]
    for t in report["pytest"]["tests"]:
        tg = ", ".join(f"{k}: {v:.3g}" for k, v in t["targets"].items()) or "-"
        lines.append(f"| `{t['nodeid']}` | {t['outcome']} | {tg} |")
    return "\n".join(lines) + "\n"
