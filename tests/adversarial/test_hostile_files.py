"""Hostile files (issue 18, point 7): overlapping safetensors offsets, a checkpoint
edited between an interruption and ``--resume``, a folder where a file is expected,
NaN named by file and array."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from slth_check.cli.main import main
from slth_check.experiment.approximate import approximate


def _safetensors(path: Path, header: dict, data: bytes) -> None:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def test_overlapping_safetensors_offsets_are_refused(tmp_path, capsys):
    data = np.arange(4, dtype=np.float32).tobytes()
    _safetensors(tmp_path / "w.safetensors",
                 {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
                  "b": {"dtype": "F32", "shape": [3], "data_offsets": [4, 16]}}, data)
    rc = main(["approximate", str(tmp_path / "w.safetensors"), "--n", "4",
               "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "overlap" in err and "w.safetensors" in err, err


def test_adjacent_safetensors_tensors_are_read(tmp_path):
    data = np.arange(4, dtype=np.float32).tobytes()
    _safetensors(tmp_path / "w.safetensors",
                 {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                  "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, data)
    r = approximate(tmp_path / "w.safetensors", tmp_path / "o", n=4, scheduler="synchronous",
                    figure=False)
    assert [t["name"] for t in r["tensors"]] == ["a", "b"]


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and p.name != "timing.json"}


def test_edited_checkpoints_are_recomputed_on_resume(tmp_path):
    """Tensor files written by a finished run, edited, then --resume: each edited file is
    recomputed, named in timing.json, and the outputs equal an untouched run."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "w.npz", a=rng.uniform(-1, 1, 20), b=rng.uniform(-1, 1, 7))
    kw = dict(n=6, scheduler="synchronous", figure=False, chunk_size=5)
    approximate(tmp_path / "w.npz", tmp_path / "ref", **kw)
    run = tmp_path / "run"
    approximate(tmp_path / "w.npz", run, **kw)
    victim = sorted((run / "tensors").glob("*.npz"))[0]
    z = dict(np.load(victim))
    z["errors"] = np.zeros_like(z["errors"])  # a lie: every weight hit exactly
    np.savez(victim, **z)  # still a valid npz, its seal now stale
    r = approximate(tmp_path / "w.npz", run, resume=True, **kw)
    assert r["timing"]["checkpoints_recomputed"] == [victim.name]
    assert _files(run) == _files(tmp_path / "ref")


def test_a_truncated_checkpoint_is_recomputed(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "w.npz", a=rng.uniform(-1, 1, 12))
    kw = dict(n=5, scheduler="synchronous", figure=False, chunk_size=4)
    approximate(tmp_path / "w.npz", tmp_path / "ref", **kw)
    run = tmp_path / "run"
    approximate(tmp_path / "w.npz", run, **kw)
    victim = next((run / "tensors").glob("*.npz"))
    victim.write_bytes(victim.read_bytes()[:50])
    r = approximate(tmp_path / "w.npz", run, resume=True, **kw)
    assert r["timing"]["checkpoints_recomputed"] == [victim.name]
    assert _files(run) == _files(tmp_path / "ref")


@pytest.mark.parametrize("argv", [
    ["approximate", "{d}", "--n", "4", "--out", "{o}"],
    ["replay", "{d}"],
    ["validate", "pruned", "--target", "{d}", "--random", "{d}", "--masks", "{d}"],
])
def test_a_folder_where_a_file_is_expected_says_so(tmp_path, capsys, argv):
    d = tmp_path / "folder.npz"
    d.mkdir()
    rc = main([a.format(d=d, o=tmp_path / "o") for a in argv])
    err = capsys.readouterr().err
    assert rc == 2 and "is a folder" in err and "folder.npz" in err, err


def test_nan_in_a_pruned_file_names_the_file_and_the_array(tmp_path, capsys):
    one = np.ones((1, 1, 1, 1))
    np.savez(tmp_path / "T.npz", K1=one)
    np.savez(tmp_path / "R.npz", U1=np.full((1, 1, 1, 1), np.nan), V1=one)
    np.savez(tmp_path / "M.npz", S1=one, T1=one)
    rc = main(["validate", "pruned", "--target", str(tmp_path / "T.npz"), "--random",
               str(tmp_path / "R.npz"), "--masks", str(tmp_path / "M.npz")])
    err = capsys.readouterr().err
    assert rc == 2 and "R.npz" in err and "U1" in err and "NaN" in err, err


def test_skipped_tensors_are_listed_on_screen(tmp_path, capsys):
    np.savez(tmp_path / "w.npz", a=np.linspace(-1, 1, 5), steps=np.arange(3))
    assert main(["approximate", str(tmp_path / "w.npz"), "--n", "4", "--out",
                 str(tmp_path / "o"), "--scheduler", "synchronous", "--no-figure"]) == 0
    out = capsys.readouterr().out
    assert "skipped: steps (dtype int64 is not floating point)" in out, out
