"""Issue 10, point 4: the construction and the sweeps in bulk give the serial results.

``slth-check check --scheduler/--workers`` maps the instances of Lemmas 1-2, the
Lemma 2 study and the calibration sweep of C over an executor; the report must
not depend on it.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

import numpy as np
import pytest
from support import (
    hide_dask,
    shared_artifacts,
    skip_if_unreachable,
    tcp_local_cluster,
    without_times,
)

from slth_check.claims import calibration, lemma2
from slth_check.cli.main import main
from slth_check.fileio.bson import CONV_NAMES
from slth_check.rss.executors import SynchronousExecutor, shared_process_pool
from slth_check.runner import run_check

ART = shared_artifacts()



def test_check_report_same_on_every_scheduler(tmp_path, monkeypatch):
    """Lemma 1 (instances, study) and the calibration sweep: synchronous vs 2 processes."""
    monkeypatch.setitem(calibration.CONFIGS, "ci", calibration.CONFIGS["ci"][:3])
    monkeypatch.setitem(calibration.DRAWS, "ci", 12)
    monkeypatch.setitem(lemma2.STUDY_DRAWS, "ci", 10)
    first = lemma2.Lemma2.instances  # the first 16 of the 40 instances (generated here)
    monkeypatch.setattr(lemma2.Lemma2, "instances",
                        lambda self, rng, profile: islice(first(self, rng, profile), 16))
    reps = {}
    for sched, w in (("synchronous", 1), ("processes", 2)):
        out = tmp_path / sched
        run_check(claim_ids=["lemma1", "calibration"], seed=3, out_dir=out, figures=False,
                  scheduler=sched, workers=w)
        reps[sched] = json.loads((out / "report.json").read_text())
    a, b = (without_times(r) for r in reps.values())
    assert a == b
    ids = [c["id"] for c in a["claims"]]
    assert ids == ["lemma1", "calibration"]
    assert next(c for c in a["claims"] if c["id"] == "lemma1")["instances"] > 16


def test_check_scheduler_usage_errors(tmp_path, capsys, monkeypatch):
    assert main(["check", "--claims", "definition1", "--out", str(tmp_path / "a"),
                 "--scheduler", "threads"]) == 2
    assert main(["check", "--claims", "definition1", "--out", str(tmp_path / "b"),
                 "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert "--scheduler: expected one of" in err and "--workers: expected a positive" in err
    hide_dask(monkeypatch)
    assert main(["check", "--claims", "definition1", "--out", str(tmp_path / "c"),
                 "--scheduler", "dask"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs Dask" in err and "pip install" in err, err


def test_calibration_sweep_parallel_equals_serial():
    """One task per (configuration, draw), seeded by (base, configuration, draw): the
    rows are the serial ones on any executor, and a configuration's rows do not depend
    on the other configurations of the sweep."""
    configs = [(1, 1, 1, 0.2), (2, 1, 1, 0.1), (1, 1, 2, 0.2)]
    serial = calibration.sweep(configs, 8, base=12345)
    with ThreadPoolExecutor(3) as pool:
        assert calibration.sweep(configs, 8, base=12345, executor=pool) == serial
    assert calibration.sweep(configs, 8, base=12345, executor=shared_process_pool(2)) == serial
    assert calibration.sweep(configs[1:2], 8, base=12345) == serial[1:2]
    assert calibration.sweep(configs, 8, base=12346) != serial  # the base seed matters
    # a task is what it says: the C its own generator's kernel and samples need
    rng = np.random.default_rng([12345, 2, 1, 1, 100000, 5])
    K = calibration.scale_into_class(rng.uniform(-1, 1, (2, 2, 1, 1)), boundary=True)
    assert calibration.draw_task((12345, 2, 1, 1, 0.1, 5)) == calibration.required_C(K, 0.1,
                                                                                     rng)


def test_lemma2_study_and_instances_same_on_an_executor(monkeypatch):
    from slth_check.claims import REGISTRY
    from slth_check.runner import run_instances

    monkeypatch.setitem(lemma2.STUDY_DRAWS, "ci", 12)
    outs = {}
    for name, ex in (("inline", None), ("sync", SynchronousExecutor()),
                     ("pool", shared_process_pool(2))):
        claim = REGISTRY["lemma2"]()
        claim.executor = ex
        rng = np.random.default_rng(9)
        res = run_instances(claim, islice(claim.instances(rng, "ci"), 12), ex)
        outs[name] = ([o.to_json() for o in res],
                      claim.summary(res, rng, "ci")["study"])
    assert outs["inline"] == outs["sync"] == outs["pool"]
    assert len(outs["inline"][0]) == 12 and outs["inline"][1]["draws"] == 12


@pytest.mark.parametrize("cid", ["lemma1", "lemma2", "calibration"])
def test_bulk_claims_declare_the_executor(cid):
    from slth_check.claims import REGISTRY
    from slth_check.runner import takes_executor

    assert takes_executor(REGISTRY[cid]())


# ------------------------------------------------ reproduce paper = approximate's path

LENET_CONV = [(5, 5, 1, 6), (6,), (5, 5, 6, 16), (16,)]  # Flux shapes of the conv arrays


def _lenet_bson(path, rng, scale=0.3, shapes=LENET_CONV) -> None:
    """A stand-in for the authors' LeNet5 file: arrays of the given LeNet5 shapes (its conv
    part by default) in the BSON.jl layout."""
    from test_artifacts import _array_doc, _doc  # the handmade BSON.jl writer of those tests

    body = b"".join(b"\x03" + str(i).encode() + b"\x00"
                    + _array_doc(sh, rng.uniform(-scale, scale, sh).astype(np.float32))
                    for i, sh in enumerate(shapes))
    path.write_bytes(_doc(body))


def _approximate_files(out):
    return {p.name: np.load(p) for p in sorted((out / "tensors").glob("*.npz"))}


def _same_as_approximate(bson, tmp_path, n, seed, draw, sel):
    """paper_draw's errors and masks are approximate's tensor files, byte for byte."""
    from slth_check.experiment.approximate import approximate

    r = approximate(bson, tmp_path / f"a{seed}", n=n, seed=seed, include=["conv*"],
                    scale="none", scheduler="synchronous", figure=False)
    files = _approximate_files(tmp_path / f"a{seed}")
    assert [row["name"] for row in r["tensors"]] == [name for name, _ in sel]
    for (e, m, c, ach), row, (_, a) in zip(draw, r["tensors"], sel):
        z = files[row["file"].split("/")[1]]
        assert z["errors"].tobytes() == e.tobytes()
        assert np.allclose(np.abs(a.ravel() - ach), e, rtol=1e-9, atol=1e-15)  # w' = the sum
        assert np.array_equal(np.packbits(m, axis=1), z["masks"])
        assert np.array_equal(z["status"], c)
    return r


def test_reproduce_exact_solves_are_approximates(tmp_path):
    """reproduce paper's exact solves: the stream (seed + draw, tensor, index) and the
    solve of slth-check approximate; same file, same seed, same numbers."""
    from slth_check.experiment.reproduce import paper_draw, reproduce_paper
    from slth_check.fileio.weights import read_weights

    rng = np.random.default_rng(21)
    bson = tmp_path / "lenet5-MNIST.bson"
    _lenet_bson(bson, rng)
    _lenet_bson(tmp_path / "lenet5-MNIST-RSS-n6-hInf.bson", rng)  # "stored" weights
    sel = read_weights(bson, include=CONV_NAMES).arrays
    with ThreadPoolExecutor(2) as pool:
        rep = reproduce_paper(tmp_path, tmp_path / "rep", seeds=2, ns=(6,),
                              construction_ns=(), datasets=("MNIST",), seed=4, figures=False,
                              executor=pool)
    (row,) = rep["figure3"]
    fig3 = set()
    for seed in (4, 5):  # draw j of reproduce is approximate's seed 4 + j
        draw = paper_draw(sel, 6, seed, executor=SynchronousExecutor())
        r = _same_as_approximate(bson, tmp_path, 6, seed, draw, sel)
        fig3.add(r["overall"]["figure3"])
        assert r["authors_stored"]["figure3"] == row["authors"]
    assert fig3 == {row["slth_check_min"], row["slth_check_max"]} and len(fig3) == 2


@pytest.mark.data
@pytest.mark.skipif(ART is None, reason="the authors' files (../shared/data/cnnslth or "
                    "$SLTH_CHECK_ARTIFACTS) are absent")
def test_reproduce_on_the_authors_file_is_approximate(tmp_path):
    from slth_check.experiment.reproduce import paper_draw
    from slth_check.fileio.weights import read_weights

    bson = ART / "lenet5-MNIST.bson"
    sel = read_weights(bson, include=CONV_NAMES).arrays
    draw = paper_draw(sel, 5, 3, executor=shared_process_pool(2))
    r = _same_as_approximate(bson, tmp_path, 5, 3, draw, sel)
    assert r["overall"]["weights"] == 2572


# ------------------------------------------------ approximate --n LIST / --figure3

def test_figure3_table_over_several_n(tmp_path, capsys):
    """--n 4,12: one run per n in OUT/n<n>/ (each the single-n run), and the table of their
    Figure 3 values beside the authors' stored ones (present for n = 12 only)."""
    rng = np.random.default_rng(8)
    bson = tmp_path / "lenet5-MNIST.bson"
    _lenet_bson(bson, rng)
    _lenet_bson(tmp_path / "lenet5-MNIST-RSS-n12-hInf.bson", rng, shapes=LENET_CONV[:2])
    out = tmp_path / "o"
    assert main(["approximate", str(bson), "--n", "4,12", "--scale", "none", "--out",
                 str(out), "--scheduler", "synchronous", "--no-figure"]) == 0
    printed = capsys.readouterr().out
    data = json.loads((out / "figure3.json").read_text())
    assert [r["n"] for r in data["rows"]] == [4, 12] and data["scale"] == "none"
    single = tmp_path / "single"
    assert main(["approximate", str(bson), "--n", "12", "--scale", "none",
                 "--out", str(single), "--scheduler", "synchronous", "--no-figure"]) == 0
    for r in data["rows"]:
        run = json.loads((out / f"n{r['n']}" / "approximate.json").read_text())
        assert r["exact_optimum"] == run["overall"]["figure3"]
        assert len(run["tensors"]) == 4
    conv1 = [t["relative_max_error"] for t in run["tensors"] if t["name"].startswith("conv1")]
    assert data["rows"][1]["exact_optimum_stored_tensors"] == max(conv1)  # like for like
    assert data["rows"][1]["exact_optimum"] > max(conv1)  # conv2.weight is worse
    assert data["rows"][1]["stored_tensors"] == ["conv1.bias", "conv1.weight"]
    assert data["rows"][0]["exact_optimum_stored_tensors"] is None
    assert (out / "n12" / "approximate.json").read_bytes() == \
        (single / "approximate.json").read_bytes()
    from slth_check.fileio.bson import load_cnnslth

    w = load_cnnslth(bson)
    stored = load_cnnslth(tmp_path / "lenet5-MNIST-RSS-n12-hInf.bson")
    authors = max(float(np.abs(w[k] - stored[k]).max() / np.abs(w[k]).max()) for k in stored)
    assert data["rows"][0]["authors_stored"] is None
    assert data["rows"][1]["authors_stored"] == authors
    assert f"| 12 | {data['rows'][1]['exact_optimum']:.3g} | {max(conv1):.3g} | " \
           f"{authors:.3g} | {authors / max(conv1):.3g} | 0 |" in printed
    assert (out / "figure3.md").read_text() in printed


def test_figure3_usage_errors(tmp_path, capsys):
    np.savez(tmp_path / "w.npz", a=np.ones(3))
    base = ["approximate", str(tmp_path / "w.npz"), "--out", str(tmp_path / "o")]
    assert main(base + ["--figure3", "--n", "5"]) == 2
    assert main(base + ["--n", "5,x"]) == 2
    assert main(base + ["--n", "5,45"]) == 2
    err = capsys.readouterr().err
    assert "--figure3: runs n = 5,10,15,20,25,30 itself" in err
    assert "argument --n: expected an integer or a comma-separated list" in err
    assert "--n: expected an integer in 1..44" in err


@pytest.mark.data
@pytest.mark.skipif(ART is None, reason="the authors' files (../shared/data/cnnslth or "
                    "$SLTH_CHECK_ARTIFACTS) are absent")
def test_figure3_table_on_the_authors_files(tmp_path):
    from slth_check.experiment.reproduce import rel_weight_error
    from slth_check.fileio.bson import load_cnnslth

    out = tmp_path / "o"
    assert main(["approximate", str(ART / "lenet5-MNIST.bson"), "--n", "5,10", "--include",
                 "conv*", "--scale", "none", "--out", str(out), "--workers", "2",
                 "--no-figure"]) == 0
    rows = json.loads((out / "figure3.json").read_text())["rows"]
    w = load_cnnslth(ART / "lenet5-MNIST.bson")
    for r in rows:  # the paper's Figure 3 from the authors' stored files, beside ours
        stored = load_cnnslth(ART / f"lenet5-MNIST-RSS-n{r['n']}-hInf.bson")
        assert r["authors_stored"] == rel_weight_error(w, stored)
        assert 0 < r["exact_optimum"] < 1 and r["not_proven_optimal"] == 0
    assert rows[0]["exact_optimum"] > rows[1]["exact_optimum"]  # more samples, closer


def test_check_report_same_on_a_dask_scheduler(tmp_path, monkeypatch, capsys):
    """``check --scheduler tcp://...`` (a Dask LocalCluster): the synchronous report."""
    distributed = pytest.importorskip("distributed", reason="Dask missing: pip install "
                                      "'slth-check[dask]'")
    monkeypatch.setitem(calibration.CONFIGS, "ci", calibration.CONFIGS["ci"][1:3])
    monkeypatch.setitem(calibration.DRAWS, "ci", 6)
    ref = tmp_path / "sync"
    run_check(claim_ids=["calibration"], seed=5, out_dir=ref, figures=False,
              scheduler="synchronous")
    with tcp_local_cluster(distributed) as cluster:
        code = main(["check", "--claims", "calibration", "--seed", "5", "--out",
                     str(tmp_path / "dask"), "--scheduler", cluster.scheduler_address])
    err = capsys.readouterr().err
    skip_if_unreachable(code, err)
    assert code == 0, err
    a, b = (without_times(json.loads((d / "report.json").read_text()))
            for d in (ref, tmp_path / "dask"))
    for rep in (a, b):  # the CLI draws the figures, the reference run does not
        rep.pop("figures", None)
        for c in rep["claims"]:
            c.pop("figures", None)
    assert a == b
