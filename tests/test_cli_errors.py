"""Exit codes and one-line errors of every ``slth-check`` command (issue 9, point 4).

0 holds/consistent, 1 violated/discrepancy, 2 usage or input error, 3 unknown,
4 internal error (``--debug`` for the traceback), 130 interrupted.  Each case
asserts its exit code and its message, and that no traceback is printed.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import tracemalloc
import zipfile

import numpy as np
import pytest

import slth_check.cli.replay as replay_cmd
from slth_check.cli.main import main
from slth_check.errors import InternalError
from slth_check.validate import Verdict, load_callable


def _err_line(capsys) -> str:
    """The whole of stderr, asserted to be exactly one line without a traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    return lines[0]


def _npy(shape, descr="<f8", data: bytes = b"") -> bytes:
    """A .npy member: a version 1.0 header claiming ``shape``, then ``data`` as it is."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": tuple(shape)})
    return buf.getvalue() + data


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _witness(path, meta: dict | str | None, **arrays):
    extra = {} if meta is None else {
        "meta": np.array(meta if isinstance(meta, str) else json.dumps(meta))}
    np.savez(path, **arrays, **extra)
    return path


# ------------------------------------------------------------------ usage (argparse)

@pytest.mark.parametrize("argv,pattern", [
    (["check", "--seed", "x"], r"^slth-check check: error: argument --seed: invalid int "
                               r"value: 'x' \(see slth-check check --help\)$"),
    ([], r"^slth-check: error: the following arguments are required: command"),
    (["check", "--profile", "huge"], r"argument --profile: invalid choice: 'huge'"),
    (["validate", "pruned", "--target", "t"], r"^slth-check validate pruned: error: the "
                                              r"following arguments are required: --random"),
    (["frobnicate"], r"argument command: invalid choice: 'frobnicate'"),
])
def test_argparse_errors_are_one_line_exit_2(argv, pattern, capsys):
    assert main(argv) == 2
    line = _err_line(capsys)
    assert re.search(pattern, line), line


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "Exit codes" in capsys.readouterr().out


# ------------------------------------------------------------------ internal, Ctrl-C

@pytest.mark.parametrize("exc,code,pattern", [
    (RuntimeError("boom\n  on two lines"), 4,
     r"^slth-check: internal error: RuntimeError: boom on two lines \(run with --debug for "
     r"the traceback\)$"),
    (InternalError("certificate with lower 0.2 > upper 0.1"), 4,
     r"internal error: InternalError: certificate with lower 0.2 > upper 0.1"),
    (KeyError("K"), 4, r"internal error: KeyError: 'K'"),
    (MemoryError(), 4, r"internal error: MemoryError"),
    (SystemExit(0), 4, r"internal error: SystemExit\(0\) escaped the command"),
    (KeyboardInterrupt(), 130, r"^slth-check: interrupted$"),
    (ValueError("witness: bad\nthing"), 2, r"^slth-check: error: witness: bad thing$"),
    (FileNotFoundError("witness: no such file x"), 2, r"error: witness: no such file x$"),
])
def test_exceptions_map_to_exit_codes(monkeypatch, capsys, exc, code, pattern):
    def raiser(args):
        raise exc

    monkeypatch.setattr(replay_cmd, "run", raiser)
    assert main(["replay", "w.npz"]) == code
    line = _err_line(capsys)
    assert re.search(pattern, line), line


def test_debug_prints_the_traceback(monkeypatch, capsys):
    def raiser(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(replay_cmd, "run", raiser)
    assert main(["--debug", "replay", "w.npz"]) == 4
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: boom" in err
    assert err.strip().splitlines()[-1] == "slth-check: internal error: RuntimeError: boom"


def test_debug_on_an_input_error_keeps_exit_2(tmp_path, capsys):
    (tmp_path / "e.npz").write_bytes(b"")
    assert main(["--debug", "replay", str(tmp_path / "e.npz")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("slth-check: error:")


def test_verdict_exit_codes():
    codes = {v: Verdict(v, "").exit_code
             for v in ("consistent", "holds", "discrepancy", "violated", "unknown", "nonsense")}
    assert codes == {"consistent": 0, "holds": 0, "discrepancy": 1, "violated": 1,
                     "unknown": 3, "nonsense": 4}


# ------------------------------------------------------------------ witness files

def test_replay_missing_file(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "none.npz")]) == 2
    assert "witness: no such file" in _err_line(capsys)


def test_replay_empty_file(tmp_path, capsys):
    (tmp_path / "e.npz").write_bytes(b"")
    assert main(["replay", str(tmp_path / "e.npz")]) == 2
    assert _err_line(capsys) == (f"slth-check: error: witness: {tmp_path / 'e.npz'} is empty "
                                 "(0 bytes), expected a slth-check witness .npz")


def test_replay_truncated_file(tmp_path, capsys):
    good = _witness(tmp_path / "w.npz", {"claim": "proposition1"}, K=np.ones((2, 2, 1, 1)),
                    X=np.ones((3, 3, 1)))
    data = good.read_bytes()
    (tmp_path / "t.npz").write_bytes(data[:len(data) // 2])
    assert main(["replay", str(tmp_path / "t.npz")]) == 2
    assert "is not a slth-check witness .npz (not a zip file, or truncated" in _err_line(capsys)


def test_replay_lying_header_refused_without_allocating(tmp_path, capsys):
    """The header claims 10**10 float64 (74.5 GiB), the member holds 16 bytes."""
    path = _zip(tmp_path / "lie.npz", {"K.npy": _npy((100000, 100000), data=b"\0" * 16),
                                       "meta.npy": _npy((), "<U2", "{}".encode("utf-32-le"))})
    tracemalloc.start()
    try:
        assert main(["replay", str(path)]) == 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20  # numpy reports its allocations to tracemalloc
    line = _err_line(capsys)
    assert "member 'K' claims shape (100000, 100000) of float64 (74.5 GiB) but holds 16 bytes" \
        in line


def test_replay_npz_above_the_cap_refused_before_reading(tmp_path, capsys, monkeypatch):
    """Header and size agree, but the total exceeds the cap: refused before any data is read."""
    import slth_check.fileio.files as files

    monkeypatch.setattr(files, "MAX_NPZ_BYTES", 1000)
    path = _witness(tmp_path / "w.npz", {"claim": "proposition1"}, K=np.ones((20, 20, 1, 1)),
                    X=np.ones((3, 3, 1)))
    assert main(["replay", str(path)]) == 2
    assert "holds more than 1000 bytes of arrays (member 'K': shape (20, 20, 1, 1) of " \
           "float64, 3.12 KiB)" in _err_line(capsys)


def test_replay_pickled_member_refused(tmp_path, capsys):
    path = tmp_path / "p.npz"
    np.savez(path, K=np.array([{"a": 1}], dtype=object), meta=np.array('{"claim": "rss"}'))
    assert main(["replay", str(path)]) == 2
    assert "member 'K' has dtype object, expected a bool, integer or float array" \
        in _err_line(capsys)


@pytest.mark.parametrize("meta,arrays,pattern", [
    ({"claim": "proposition1"}, {"X": np.ones((3, 3, 1))},
     r"witness: missing array 'K' for claim proposition1 in .* \(it has: X\)"),
    ({"claim": "definition1"}, {"K": np.ones((2, 2, 1, 1))},
     r"witness: missing array 'X' for claim definition1"),
    ({"claim": "theorem1"}, {"X": np.ones((3, 3, 1))},
     r"witness: missing metadata entry 'ell' for claim theorem1"),
    ({"claim": "theorem1", "ell": 1}, {"X": np.ones((3, 3, 1))},
     r"witness: missing array 'K0' for claim theorem1"),
    ({"claim": "lemma2"}, {"X": np.ones((3, 3, 1))},
     r"witness: missing array 'U' for claim lemma2"),
    ({"claim": "rss"}, {"values": np.ones(3), "target": np.array(1.0)},
     r"witness: an array of .* has the wrong shape for claim rss"),
    ({"claim": "nonsense"}, {"X": np.ones(1)}, r"witness: unknown claim 'nonsense'"),
    ({"verdict": "violated"}, {"X": np.ones(1)}, r"'meta' entry without a 'claim' name"),
    ([1, 2], {"X": np.ones(1)}, r"'meta' entry without a 'claim' name"),
    ("not json", {"X": np.ones(1)}, r"'meta' entry that is not JSON"),
    (None, {"X": np.ones(1)}, r"has no 'meta' entry naming its claim"),
])
def test_malformed_witness_names_what_is_missing(tmp_path, capsys, meta, arrays, pattern):
    path = _witness(tmp_path / "w.npz", meta, **arrays)
    assert main(["replay", str(path)]) == 2
    line = _err_line(capsys)
    assert re.search(pattern, line), line


# ------------------------------------------------------------------ validate pruned files

def _pruned_files(tmp_path):
    K = np.full((1, 1, 1, 1), 0.5)
    np.savez(tmp_path / "T.npz", K1=K)
    np.savez(tmp_path / "R.npz", U1=np.full((1, 1, 1, 2), 0.5), V1=np.ones((1, 1, 2, 1)))
    np.savez(tmp_path / "M.npz", S1=np.array([[[[1, 0]]]]), T1=np.ones((1, 1, 2, 1)))
    return [str(tmp_path / f) for f in ("T.npz", "R.npz", "M.npz")]


def _pruned_args(t, r, m):
    return ["validate", "pruned", "--target", t, "--random", r, "--masks", m]


def test_validate_pruned_lying_header(tmp_path, capsys):
    t, r, m = _pruned_files(tmp_path)
    _zip(tmp_path / "R.npz", {"U1.npy": _npy((100000, 100000), data=b"\0" * 8),
                              "V1.npy": _npy((1, 1, 2, 1), data=b"\0" * 16)})
    assert main(_pruned_args(t, r, m)) == 2
    line = _err_line(capsys)
    assert line.startswith("slth-check: error: --random: ") and "claims shape (100000, 100000)" \
        in line


@pytest.mark.parametrize("content,pattern", [
    (b"", r"--masks: .* is empty \(0 bytes\), expected a \.npz archive"),
    (b"PK\x03\x04 truncated", r"--masks: .* is not a \.npz archive \(not a zip file, or "
                              r"truncated"),
])
def test_validate_pruned_empty_or_truncated(tmp_path, capsys, content, pattern):
    t, r, m = _pruned_files(tmp_path)
    (tmp_path / "M.npz").write_bytes(content)
    assert main(_pruned_args(t, r, m)) == 2
    assert re.search(pattern, _err_line(capsys))


def test_validate_pruned_structured_dtype(tmp_path, capsys):
    t, r, m = _pruned_files(tmp_path)
    np.savez(tmp_path / "T.npz", K1=np.zeros((1, 1, 1, 1), dtype=[("a", "<f8")]))
    assert main(_pruned_args(t, r, m)) == 2
    assert "--target: " in (line := _err_line(capsys)) and "member 'K1' has dtype" in line


def test_validate_pruned_good_files_still_work(tmp_path, capsys):
    assert main(_pruned_args(*_pruned_files(tmp_path)) + ["--eps", "0.1"]) in (0, 1, 3)
    capsys.readouterr()


# ------------------------------------------------------------------ --impl loading

IMPL_CASES = [
    ("syntax", "def f(:\n", r"--impl: cannot load '{m}:f': SyntaxError in .*{m}\.py, line 1"),
    ("raise", "raise RuntimeError('no GPU')\n",
     r"--impl: cannot load '{m}:f': importing '{m}' raised RuntimeError: no GPU$"),
    ("exit", "import sys\nsys.exit(0)\n", r"importing '{m}' raised SystemExit: 0$"),
    ("dependency", "import no_such_dependency_xyz\n",
     r"cannot load '{m}:f' \(No module named 'no_such_dependency_xyz'\)$"),
    ("attribute", "g = 1\n",
     r"cannot load '{m}:f' \(AttributeError: module '{m}' has no attribute 'f'\)$"),
    ("value", "f = 3\n", r"--impl: '{m}:f' is not callable \(got int\)$"),
]


@pytest.mark.parametrize("case,source,pattern", IMPL_CASES, ids=[c[0] for c in IMPL_CASES])
def test_load_callable_failures_are_usage_errors(tmp_path, monkeypatch, case, source, pattern):
    """Whatever the user's module does at import, load_callable raises one clear ValueError."""
    import sys

    name = f"badmod_{case}_api"
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(ValueError) as info:
            load_callable(f"{name}:f")
    finally:
        sys.modules.pop(name, None)
    assert re.search(pattern.format(m=name), str(info.value)), str(info.value)


IMPORT_FAILURES = [c for c in IMPL_CASES if c[0] in ("syntax", "raise", "exit", "dependency")]


@pytest.mark.parametrize("case,source,pattern", IMPORT_FAILURES,
                         ids=[c[0] for c in IMPORT_FAILURES])
@pytest.mark.parametrize("what", ["conv2d", "rss"])
def test_impl_that_fails_at_import_exits_2(tmp_path, monkeypatch, capsys, case, source,
                                           pattern, what):
    import sys

    name = f"badmod_{case}_{what}_cli"
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.chdir(tmp_path)  # the sandbox's worker imports from the current folder
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        rc = main(["validate", what, "--impl", f"{name}:f", "--max-examples", "5"])
    finally:
        sys.modules.pop(name, None)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and rc != 0  # never consistent, never a traceback
    assert rc == 2


@pytest.mark.parametrize("what", ["conv2d", "rss"])
@pytest.mark.parametrize("case,source,pattern", [
    ("module", None, r"^slth-check: error: --impl: cannot load '{m}:f' .*(?i:no module named) "
                     r"'{m}'"),
    ("attr", "g = 1\n", r"^slth-check: error: --impl: cannot load '{m}:f' .*has no attribute "
                        r"'f'"),
    ("call", "f = 3\n", r"^slth-check: error: --impl: '{m}:f' is not callable"),
], ids=["no module", "no attribute", "not callable"])
def test_impl_that_cannot_be_found_exits_2(tmp_path, monkeypatch, capsys, case, source,
                                           pattern, what):
    import sys

    name = f"badmod_{what}_{case}"
    if source is not None:
        (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.chdir(tmp_path)  # the sandbox's worker imports from the current folder
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert main(["validate", what, "--impl", f"{name}:f", "--max-examples", "5"]) == 2
    finally:
        sys.modules.pop(name, None)
    line = _err_line(capsys)
    assert re.search(pattern.format(m=name), line), line


@pytest.mark.parametrize("spec", ["nocolon", ":f", "mod:", 3])
def test_load_callable_rejects_bad_specs(spec):
    with pytest.raises(ValueError, match="--impl: expected MODULE:ATTR"):
        load_callable(spec)


# ------------------------------------------------------------------ output folders

def _no_work(monkeypatch) -> None:
    """Make the claim definition1 fail as soon as a run starts working on it."""
    from slth_check.claims import REGISTRY

    def boom(*a, **k):
        raise AssertionError("the computation started")

    monkeypatch.setitem(REGISTRY, "definition1", boom)


def test_check_out_under_a_file_fails_before_any_work(tmp_path, monkeypatch, capsys):
    _no_work(monkeypatch)
    (tmp_path / "file.txt").write_text("x")
    out = tmp_path / "file.txt" / "sub"
    assert main(["check", "--claims", "definition1", "--out", str(out)]) == 2
    line = _err_line(capsys)
    assert line.startswith(f"slth-check: error: --out: cannot write to the folder {out} ("), line


def test_check_out_read_only_folder(tmp_path, monkeypatch, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("chmod does not stop this user from writing (root)")
        _no_work(monkeypatch)
        assert main(["check", "--claims", "definition1", "--out", str(ro / "r")]) == 2
        assert "--out: cannot write to the folder" in _err_line(capsys)
    finally:
        ro.chmod(stat.S_IRWXU)


def test_reproduce_out_under_a_file(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    assert main(["reproduce", "paper", "--artifacts", str(tmp_path), "--out",
                 str(tmp_path / "file.txt" / "sub")]) == 2
    assert "--out: cannot write to the folder" in _err_line(capsys)


def test_validate_json_under_a_file_fails_before_any_work(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    t, r, m = _pruned_files(tmp_path)
    assert main(_pruned_args(t, r, m) + ["--json", str(tmp_path / "file.txt" / "v.json")]) == 2
    assert "--json: cannot write to the folder" in _err_line(capsys)
    assert main(_pruned_args(t, r, m) + ["--json", str(tmp_path)]) == 2
    assert "is a folder, expected a file name" in _err_line(capsys)


def test_validate_json_dash_writes_json_alone_on_stdout(tmp_path, capsys):
    rc = main(_pruned_args(*_pruned_files(tmp_path)) + ["--eps", "0.1", "--json", "-"])
    out, err = capsys.readouterr()
    v = json.loads(out)
    assert v["verdict"] in ("holds", "violated", "unknown")
    assert rc == Verdict(v["verdict"], "").exit_code
    assert err.startswith(f"{v['verdict']}: ")


def _gone(pid: int) -> bool:
    """The process has ended: no such pid any more, or a zombie waiting to be reaped."""
    import os

    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
    except OSError:  # no /proc: ask the kernel whether the pid exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def test_ctrl_c_stops_the_shared_worker_processes(monkeypatch, capsys):
    """Ctrl-C during a bulk RSS job: exit 130 at once, not after the running chunks."""
    import multiprocessing
    import time

    from slth_check.rss import executors

    pool = executors.shared_process_pool(2)
    pool.submit(time.sleep, 120)  # a chunk that would hold the exit for two minutes
    procs = multiprocessing.active_children()
    assert procs

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(replay_cmd, "run", interrupted)
    try:
        assert main(["replay", "w.npz"]) == 130
        assert _err_line(capsys) == "slth-check: interrupted"
        # SIGKILL is immediate; the margin is only for a loaded machine.  Process.is_alive()
        # cannot be trusted here: the pool's manager thread may reap the child first,
        # after which the Process object reports a dead worker as alive.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(_gone(p.pid) for p in procs):
            time.sleep(0.05)
        assert all(_gone(p.pid) for p in procs)
        assert executors.shared_process_pool(2) is not pool  # forgotten: a new one is made
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()


def test_reproduce_takes_the_bulk_scheduler_options(tmp_path, capsys):
    rc = main(["reproduce", "paper", "--scheduler", "bogus", "--out", str(tmp_path / "r"),
               "--artifacts", str(tmp_path)])
    assert rc == 2
    assert "--scheduler: expected one of processes, synchronous, dask" in capsys.readouterr().err


def test_every_option_has_help_and_check_lists_the_claim_ids():
    import argparse

    from slth_check.claims import REGISTRY
    from slth_check.cli.check import CLAIM_IDS
    from slth_check.cli.main import build_parser

    assert tuple(REGISTRY) == CLAIM_IDS  # --help lists them without importing the claims
    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif action.dest != "help" and (not action.help or action.help == "see the README"):
                missing.append(f"{path} {action.option_strings or action.dest}")

    walk(build_parser(), "slth-check")
    assert not missing, missing
    check = next(a for a in build_parser()._subparsers._actions
                 if isinstance(a, argparse._SubParsersAction)).choices["check"]
    assert all(cid in check.format_help() for cid in CLAIM_IDS)
