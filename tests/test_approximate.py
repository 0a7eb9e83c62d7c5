"""Issue 10: ``slth-check approximate`` (the paper's experiment for any network)."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from support import skip_if_unreachable, tcp_local_cluster

from slth_check.cli.main import main
from slth_check.experiment.approximate import (
    STATUS_CODES,
    approximate,
    read_weights,
    samples,
    tensor_key,
)
from slth_check.rss import solve

ART = Path(__file__).resolve().parents[2] / "shared" / "data" / "cnnslth"


def _weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"conv1.weight": rng.normal(size=(3, 3, 1, 4)).astype(np.float32),
            "conv1.bias": rng.normal(size=4) * 0.1,
            "fc.weight": rng.uniform(-0.5, 0.5, (5, 6)),
            "steps": np.arange(3)}


def _files(d: Path) -> dict[str, bytes]:
    """Every output file (timing.json aside: it holds wall times) by relative path."""
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and p.name != "timing.json"}


def write_safetensors(path: Path, arrays: dict[str, np.ndarray], dtypes: dict[str, str]) -> None:
    header, blobs, off = {}, [], 0
    for k, a in arrays.items():
        raw = np.ascontiguousarray(a).tobytes()
        header[k] = {"dtype": dtypes[k], "shape": list(a.shape), "data_offsets": [off,
                                                                                  off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def test_samples_depend_only_on_the_weight_index():
    key = tensor_key(7, 3)
    whole = samples(key, 0, 50, 30)
    assert np.array_equal(whole[17:41], samples(key, 17, 41, 30))
    assert np.array_equal(whole[5, :29], samples(key, 5, 6, 29)[0])  # same blocks per weight
    assert whole.min() >= -1 and whole.max() < 1 and abs(whole.mean()) < 0.1
    assert not np.array_equal(whole, samples(tensor_key(7, 4), 0, 50, 30))
    assert np.all(whole * 2**52 == np.round(whole * 2**52))  # the stated grid


def test_npz_run_is_exact_and_documented(tmp_path):
    w = _weights()
    np.savez(tmp_path / "w.npz", **w)
    r = approximate(tmp_path / "w.npz", tmp_path / "out", n=12, seed=3, scheduler="synchronous",
                    chunk_size=7)
    assert [t["name"] for t in r["tensors"]] == ["conv1.bias", "conv1.weight", "fc.weight"]
    assert r["skipped"] == [{"name": "steps", "reason": "dtype int64 is not floating point"}]
    on_disk = json.loads((tmp_path / "out" / "approximate.json").read_text())
    assert on_disk["schema_version"] == 1 and on_disk["overall"]["weights"] == 4 + 36 + 30
    assert on_disk["overall"]["not_proven_optimal"] == 0
    for t, row in enumerate(r["tensors"]):
        a = w[row["name"]].astype(np.float64).ravel()
        s = float(np.abs(a).max())
        assert row["scale"] == s
        z = np.load(tmp_path / "out" / row["file"])
        assert z["errors"].dtype == np.float64 and z["errors"].shape == (a.size,)
        masks = np.unpackbits(z["masks"], axis=1, count=12).astype(bool)
        V = samples(tensor_key(3, t), 0, a.size, 12)
        for i in range(a.size):
            ref = solve(V[i], float(a[i] / s))
            assert z["errors"][i] == float(ref.error), (row["name"], i)
            assert np.array_equal(masks[i], ref.mask)
        assert np.all(z["status"] == STATUS_CODES["optimal"])
        # with --scale max the largest error is Figure 3's max|w - w'| / max|w|
        w2 = s * np.where(masks, V, 0).sum(axis=1)
        assert np.isclose(np.abs(a - w2).max() / s, row["max_error"], rtol=1e-6, atol=1e-12)
        assert np.isclose(np.abs(a - w2).max() / s, row["relative_max_error"], rtol=1e-6,
                          atol=1e-12)
        assert row["max_error"] == float(z["errors"].max())
        assert row["median_error"] == float(np.median(z["errors"]))
    assert (tmp_path / "out" / "figure3.png").stat().st_size > 1000
    assert "| **overall** |" in (tmp_path / "out" / "approximate.md").read_text()
    assert not (tmp_path / "out" / "chunks").exists()  # replaced by the tensor files


def test_safetensors_equals_npz_and_include_exclude(tmp_path):
    w = _weights(1)
    np.savez(tmp_path / "w.npz", **w)
    write_safetensors(tmp_path / "w.safetensors", w,
                      {"conv1.weight": "F32", "conv1.bias": "F64", "fc.weight": "F64",
                       "steps": "I64"})
    for f in ("w.npz", "w.safetensors"):
        assert main(["approximate", str(tmp_path / f), "--n", "10", "--out",
                     str(tmp_path / f"o-{f}"), "--scheduler", "synchronous",
                     "--exclude", "fc.*"]) == 0
    a, b = _files(tmp_path / "o-w.npz"), _files(tmp_path / "o-w.safetensors")
    assert sorted(k for k in a if k.startswith("tensors/")) == \
        ["tensors/0000-conv1.bias.npz", "tensors/0001-conv1.weight.npz"]
    for k in a:
        if k.startswith("tensors/") or k == "figure3.png":
            assert a[k] == b[k], k
    sel = read_weights(tmp_path / "w.safetensors", include=["conv1.*"], exclude=["*.bias"])
    assert [n for n, _ in sel.arrays] == ["conv1.weight"] and sel.fmt == "safetensors"


def test_bf16_safetensors_widened_exactly(tmp_path):
    x = np.array([1.0, -0.5, 0.1], dtype=np.float32)
    bf = (x.view(np.uint32) >> 16).astype(np.uint16)
    write_safetensors(tmp_path / "b.safetensors", {"w": bf}, {"w": "BF16"})
    (name, a), = read_weights(tmp_path / "b.safetensors").arrays
    assert name == "w" and a.dtype == np.float64
    assert a.tolist() == (bf.astype(np.uint32) << 16).view(np.float32).astype(float).tolist()
    assert a[:2].tolist() == [1.0, -0.5]


@pytest.mark.parametrize("kind", ["truncated_npz", "garbage_npz", "st_header_too_long",
                                  "st_offsets_outside", "st_shape_mismatch", "st_bad_json",
                                  "empty", "nan", "unknown_format"])
def test_corrupt_input_exits_2_in_one_line(tmp_path, capsys, kind):
    w = _weights()
    good = tmp_path / "g.npz"
    np.savez(good, **w)
    bad = tmp_path / ("bad.safetensors" if kind.startswith("st_") else "bad.npz")
    if kind == "truncated_npz":
        bad.write_bytes(good.read_bytes()[:300])
    elif kind == "garbage_npz":
        bad.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "nan":
        np.savez(bad, w=np.array([0.5, np.nan]))
    elif kind == "unknown_format":
        bad = tmp_path / "bad.weights"
        bad.write_bytes(b"\x00" * 64)
    else:
        write_safetensors(bad, {"w": np.ones(4)}, {"w": "F64"})
        raw = bad.read_bytes()
        (hlen,) = struct.unpack("<Q", raw[:8])
        head, data = raw[8:8 + hlen], raw[8 + hlen:]
        if kind == "st_header_too_long":
            raw = struct.pack("<Q", 10**9) + head + data
        elif kind == "st_offsets_outside":
            raw = raw[:-8]  # data shorter than the header claims
        elif kind == "st_shape_mismatch":
            h = head.replace(b"[4]", b"[5]")
            raw = struct.pack("<Q", len(h)) + h + data
        else:
            h = b"{not json" + b" " * (len(head) - 9)
            raw = struct.pack("<Q", len(h)) + h + data
        bad.write_bytes(raw)
    code = main(["approximate", str(bad), "--n", "8", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err and "WEIGHTS" in err, err


def test_usage_errors_exit_2(tmp_path, capsys):
    np.savez(tmp_path / "w.npz", **_weights())
    base = ["approximate", str(tmp_path / "w.npz"), "--out", str(tmp_path / "o")]
    assert main(base + ["--n", "45"]) == 2
    assert main(base + ["--scheduler", "threads"]) == 2
    assert main(base + ["--workers", "0"]) == 2
    assert main(base + ["--n", "6", "--scheduler", "synchronous"]) == 0
    assert main(base + ["--n", "6"]) == 2  # a run is there: --resume or another --out
    assert main(base + ["--n", "7", "--resume"]) == 2  # other settings
    err = capsys.readouterr().err
    assert "--n: expected an integer in 1..44" in err and "--scheduler: expected" in err
    assert "add --resume" in err and "other settings (n differ)" in err
    assert main(base + ["--n", "6", "--resume", "--scheduler", "synchronous"]) == 0


def test_sigkill_then_resume_is_byte_identical(tmp_path):
    rng = np.random.default_rng(5)
    np.savez(tmp_path / "w.npz", a=rng.normal(size=2800), b=rng.normal(size=(40, 30)))
    args = ["approximate", str(tmp_path / "w.npz"), "--n", "20", "--chunk-size", "20",
            "--seed", "11"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from slth_check.cli.main import "
                             "main; sys.exit(main(sys.argv[1:]))", *args, "--out", str(killed),
                             "--scheduler", "synchronous"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        chunks = killed / "chunks"
        while proc.poll() is None and not (chunks.is_dir() and any(chunks.glob("*.npz"))):
            time.sleep(0.005)
        assert proc.poll() is None, "the run ended before the first chunk file was seen: " + \
            proc.stderr.read().decode()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "approximate.json").exists(), "killed after it finished"
    assert main(args + ["--out", str(killed), "--resume", "--scheduler", "synchronous"]) == 0
    fresh = tmp_path / "fresh"
    assert main(args + ["--out", str(fresh), "--scheduler", "processes", "--workers",
                        "2"]) == 0
    a, b = _files(killed), _files(fresh)
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k] == b[k], f"{k} differs after kill -9 and --resume"
    assert json.loads((killed / "timing.json").read_text())["instances_solved_now"] < 4000


def test_tcp_scheduler_equals_processes(tmp_path, capsys):
    distributed = pytest.importorskip("distributed", reason="Dask missing: pip install "
                                      "'slth-check[dask]'")
    np.savez(tmp_path / "w.npz", **_weights(2))
    args = ["approximate", str(tmp_path / "w.npz"), "--n", "14", "--chunk-size", "9"]
    assert main(args + ["--out", str(tmp_path / "p"), "--scheduler", "processes"]) == 0
    with tcp_local_cluster(distributed) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        code = main(args + ["--out", str(tmp_path / "d"), "--scheduler",
                            cluster.scheduler_address])
        err = capsys.readouterr().err
        skip_if_unreachable(code, err)
        assert code == 0, err
    assert _files(tmp_path / "p") == _files(tmp_path / "d")
    t = json.loads((tmp_path / "d" / "timing.json").read_text())
    assert t["scheduler"].startswith("tcp://") and t["workers"] == 2


def test_torch_state_dict(tmp_path):
    torch = pytest.importorskip("torch", reason="torch missing: pip install 'slth-check[torch]'")
    w = _weights(3)
    torch.save({k: torch.from_numpy(np.asarray(v)) for k, v in w.items()}, tmp_path / "w.pt")
    np.savez(tmp_path / "w.npz", **w)
    for f in ("w.pt", "w.npz"):
        assert main(["approximate", str(tmp_path / f), "--n", "9", "--out",
                     str(tmp_path / f"o-{f}"), "--scheduler", "synchronous"]) == 0
    a, b = _files(tmp_path / "o-w.pt"), _files(tmp_path / "o-w.npz")
    assert {k: v for k, v in a.items() if k.startswith("tensors/")} == \
        {k: v for k, v in b.items() if k.startswith("tensors/")}


@pytest.mark.skipif(not (ART / "lenet5-MNIST.bson").is_file(), reason="the authors' files "
                    "are not in ../shared/data/cnnslth")
def test_authors_bson(tmp_path):
    from slth_check.experiment.reproduce import rel_weight_error
    from slth_check.fileio.bson import load_cnnslth

    r = approximate(ART / "lenet5-MNIST.bson", tmp_path / "o", n=5, include=["conv*"],
                    scheduler="synchronous", scale="none")
    assert [t["name"] for t in r["tensors"]] == ["conv1.bias", "conv1.weight", "conv2.bias",
                                                  "conv2.weight"]
    assert r["overall"]["weights"] == 2572 and r["input"]["format"] == "bson"
    w = load_cnnslth(ART / "lenet5-MNIST.bson")
    stored = load_cnnslth(ART / "lenet5-MNIST-RSS-n5-hInf.bson")
    assert r["authors_stored"]["figure3"] == rel_weight_error(w, stored)  # 0.892, Figure 3
    assert r["authors_stored"]["file"] == "lenet5-MNIST-RSS-n5-hInf.bson"
    assert 0 < r["overall"]["figure3"] < 1
    assert "The authors' stored result" in (tmp_path / "o" / "approximate.md").read_text()
