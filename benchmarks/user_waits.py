"""Everything a user waits for, before and after, as ratios in one run (issue 19, point 4).

Runs each user command with two installs of slth-check (two Python interpreters, e.g.
two venvs over two worktrees), alternately, ``--repeats`` times each, and prints the
median wall time of each (the whole process: start-up, imports, work, files written),
the after / before ratio and the load average before each run (the machine may be
shared), and the CPU seconds of each run (user + system of the process and of the
children it waited for: less sensitive to a loaded machine than the wall time).  The commands:

* ``check``: ``slth-check check`` with its defaults (profile ci, seed 0);
* ``reproduce``: ``slth-check reproduce paper`` on the authors' files;
* ``validate``: ``slth-check validate pruned`` on a LeNet-size pair written here once
  (the authors' MNIST LeNet5 kernels and biases, each layer scaled into Theorem 1's
  class, paper padding, no pooling; the construction at ``n' = --pair-n``, ``n = [6 n', 16 n']``);
* ``bracket``: the LeNet5 bracket at ``n' = 30`` (``build_network`` then ``worst_case``
  as in ``benchmarks/lenet_bounds.py``), with ``kicks=--kicks``: fixed work instead of
  the time budget (a budget-bound search takes the same time in any version);
* ``prove``: ``slth-check prove`` (every statement, Z3).

A command whose command line differs between versions is given per version (the
bracket's imports moved: the snippet tries the new paths, then the old ones).  The
first run of each command in each install may pay numba's compile (cached on disk
afterwards); the median of three or more runs leaves it out.  Exit codes are printed:
a ratio is only meaningful when both versions exit alike.

    python benchmarks/user_waits.py --before BASE/.venv/bin/python \\
        --after .venv/bin/python [--repeats 3] [--only check prove] [--artifacts DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = ("check", "reproduce", "validate", "bracket", "prove")

BRACKET = """
import sys
try:
    from slth_check.experiment.lenet import lenet_conv
    from slth_check.fileio.bson import load_cnnslth
except ImportError:  # before the turn-3 layout
    from slth_check.reproduce import lenet_conv
    from slth_check.artifacts import load_cnnslth
from slth_check.certify import worst_case
from slth_check.construction import build_network
target = lenet_conv(load_cnnslth(sys.argv[1]))
n1, kicks = 30, int(sys.argv[2])
pruned = build_network(target, n=[6 * n1, 16 * n1], rng=n1)
res = worst_case(target, pruned, 28, rng=n1, kicks=kicks)
print(f"n'={n1} kicks={kicks}: [{float(res['lower']):.6g}, {res['upper']:.6g}]")
"""


def write_pair(folder: Path, artifacts: Path, n1: int) -> list[str]:
    """The LeNet-size pair of ``validate pruned``: T.npz, R.npz, M.npz in ``folder``."""
    from slth_check.construction import build_network
    from slth_check.fileio.bson import load_cnnslth
    from slth_check.fileio.networks import save_networks
    from slth_check.network import ConvLayer, TargetCNN, scale_into_class

    p = load_cnnslth(artifacts / "lenet5-MNIST.bson")
    layers = []
    for i in (1, 2):  # each layer scaled into Theorem 1's class, its bias with its kernel
        K = p[f"conv{i}.weight"]
        Ks = scale_into_class(K)
        layers.append(ConvLayer(Ks, p[f"conv{i}.bias"] * (Ks.flat[0] / K.flat[0])))
    target = TargetCNN(layers)
    pruned = build_network(target, n=[6 * n1, 16 * n1], rng=n1)
    paths = [str(folder / name) for name in ("T.npz", "R.npz", "M.npz")]
    save_networks(paths[0], paths[1], paths[2], target, pruned)
    return paths


def command(name: str, py: str, out: Path, artifacts: Path, pair: list[str],
            kicks: int) -> list[str]:
    """The command line of ``name`` for the install of interpreter ``py``."""
    cli = [py, "-m", "slth_check"]
    if name == "check":
        return cli + ["check", "--out", str(out)]
    if name == "reproduce":
        return cli + ["reproduce", "paper", "--artifacts", str(artifacts), "--out", str(out)]
    if name == "validate":
        return cli + ["validate", "pruned", "--target", pair[0], "--random", pair[1],
                      "--masks", pair[2], "--eps", "0.1"]
    if name == "bracket":
        return [py, "-c", BRACKET, str(artifacts / "lenet5-MNIST.bson"), str(kicks)]
    if name == "prove":
        return cli + ["prove"]
    raise ValueError(f"unknown command {name!r}")


def run_once(argv: list[str], cwd: Path, log: Path,
             env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system of the process and the children it
    waited for, e.g. its worker pool) and exit code of one run (output to ``log``)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(log, "wb") as fh:
        rc = subprocess.call(argv, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), rc


def measure(name: str, versions: dict[str, str], args: argparse.Namespace, tmp: Path,
            pair: list[str]) -> dict[str, tuple[float, float, set[int]]]:
    """Median wall and CPU seconds and exit codes per version, runs alternating between
    them."""
    secs: dict[str, list[float]] = {v: [] for v in versions}
    cpus: dict[str, list[float]] = {v: [] for v in versions}
    rcs: dict[str, set[int]] = {v: set() for v in versions}
    for k in range(args.repeats):
        for label, py in versions.items():
            env = dict(os.environ, SLTH_CHECK_ARTIFACTS=str(args.artifacts))
            src = getattr(args, f"{label}_src")
            if src is not None:
                env["PYTHONPATH"] = os.pathsep.join([str(src.resolve())] + (
                    [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
            cwd = tmp / f"{name}-{label}-{k}"
            cwd.mkdir()
            argv = command(name, py, cwd / "out", args.artifacts, pair, args.kicks)
            load = os.getloadavg()
            t, cpu, rc = run_once(argv, cwd, cwd / "log.txt", env)
            secs[label].append(t)
            cpus[label].append(cpu)
            rcs[label].add(rc)
            print(f"  {name:<10} {label:<6} run {k + 1}: {t:8.2f} s  {cpu:8.2f} CPU s  exit {rc}  "
                  f"load {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}", flush=True)
    return {v: (statistics.median(secs[v]), statistics.median(cpus[v]), rcs[v])
            for v in versions}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="Python interpreter of the baseline install")
    ap.add_argument("--after", default=sys.executable,
                    help="Python interpreter of the install measured (default: this one)")
    ap.add_argument("--before-src", type=Path, default=None,
                    help="a source tree put first on the baseline's PYTHONPATH (optional)")
    ap.add_argument("--after-src", type=Path, default=None,
                    help="a source tree put first on the measured install's PYTHONPATH, e.g. "
                         "a worktree of the commit measured while the editable one changes")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", nargs="+", choices=COMMANDS, default=list(COMMANDS))
    ap.add_argument("--artifacts", type=Path, default=None,
                    help="the authors' files (default: $SLTH_CHECK_ARTIFACTS)")
    ap.add_argument("--pair-n", type=int, default=5, help="n' of validate's pair (default 5)")
    ap.add_argument("--kicks", type=int, default=5, help="the bracket's search work (default 5)")
    ap.add_argument("--keep", type=Path, default=None,
                    help="an empty folder to keep each run's output and log in (default: a "
                         "temporary folder, removed)")
    args = ap.parse_args(argv)
    art = args.artifacts or os.environ.get("SLTH_CHECK_ARTIFACTS")
    if not art or not (Path(art) / "lenet5-MNIST.bson").is_file():
        print("skipped: the authors' files were not found (pass --artifacts DIR or set "
              "SLTH_CHECK_ARTIFACTS)")
        return 0
    args.artifacts = Path(art).resolve()
    versions = {label: str(Path(py).absolute()) if os.sep in py else py
                for label, py in (("before", args.before), ("after", args.after))}
    for label, py in versions.items():
        src = getattr(args, f"{label}_src")
        print(f"{label}: {py}" + (f" with {src} first on PYTHONPATH" if src else ""))
    print(f"load average at the start: {' / '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs); {args.repeats} runs per command and version")
    results = {}
    with tempfile.TemporaryDirectory(prefix="user_waits_") as tmpdir:
        tmp = Path(tmpdir)
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = args.keep.resolve()
        pair = write_pair(tmp, args.artifacts, args.pair_n) if "validate" in args.only else []
        for name in args.only:
            results[name] = measure(name, versions, args, tmp, pair)
    print(f"\n{'command':<10} | {'before s':>9} | {'after s':>9} | {'after/before':>12} | "
          f"{'before CPU s':>12} | {'after CPU s':>11} | {'CPU ratio':>9} | exit")
    print("-" * 100)
    for name, res in results.items():
        (b, bc, rb), (a, ac, ra) = res["before"], res["after"]
        codes = "/".join(",".join(map(str, sorted(r))) for r in (rb, ra))
        print(f"{name:<10} | {b:>9.2f} | {a:>9.2f} | {a / b:>12.2f} | {bc:>12.2f} | "
              f"{ac:>11.2f} | {ac / bc:>9.2f} | {codes}")
    print(f"load average at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
