"""The certified worst case beside Figure 4's dataset maximum (issue 22, point 1): the
authors' stored networks written exactly as pruned networks, the certified upper bound of
the whole box at least every image's error, and a bound below the dataset maximum
reported as an internal inconsistency (exit 4)."""

from __future__ import annotations

import numpy as np
import pytest
from support import shared_artifacts

import slth_check.experiment.figure4_certified as certified
from slth_check.cli import main
from slth_check.experiment.figure4 import image_errors
from slth_check.experiment.figure4_certified import FigureInconsistency, as_pruned, certified_rows
from slth_check.network import ConvLayer, TargetCNN

ART = shared_artifacts()


def _net(rng, scale=1.0):
    def layer(c0, c1):
        return ConvLayer(rng.uniform(-0.3, 0.3, (3, 3, c0, c1)) * scale,
                         rng.uniform(-0.2, 0.2, c1), padding="same", pool="max")
    return TargetCNN([layer(1, 2), layer(2, 3)], final_relu=True)


def test_as_pruned_is_the_network_exactly():
    rng = np.random.default_rng(0)
    g = _net(rng)
    p = as_pruned(g)
    assert p.linearisable()
    for L, P in zip(g.layers, p.layers):
        assert np.array_equal(P.effective_kernel(exact=True), L.K.astype(object))
        assert np.array_equal(P.effective_bias(exact=True), L.bias.astype(object))
    X = rng.uniform(0, 1, (2, 8, 8, 1))
    assert np.array_equal(p.forward_exact(X), g.forward_exact(X))


def _rows(rng, count=40):
    f = _net(rng)
    gs = {1: TargetCNN([ConvLayer(L.K + rng.uniform(-0.05, 0.05, L.K.shape), L.bias,
                                  padding="same", pool="max") for L in f.layers],
                       final_relu=True)}
    images = rng.uniform(0, 1, (count, 8, 8))
    images[0] = 1.0  # a vertex of the box
    ref, num = image_errors(f, gs, np.ascontiguousarray(images.transpose(0, 2, 1))[..., None])
    j = int(np.argmax(num[1]))
    rows = [{"n": 1, "max_absolute_error": float(num[1][j]), "argmax_absolute_image": j,
             "max_reference_activation": float(ref.max()),
             "authors_normalisation": float(num[1].max() / ref.max())}]
    return f, gs, rows, images


@pytest.mark.parametrize("seed", range(4))
def test_the_certified_bound_is_at_least_every_image_error(seed):
    f, gs, rows, images = _rows(np.random.default_rng(seed))
    (row,) = certified_rows(f, gs, rows, images)
    assert row["dataset_within_bound"] is True
    assert row["certified_upper"] >= row["max_absolute_error"] > 0
    assert row["certified_relative_upper"] >= row["authors_normalisation"]
    assert row["certified_relative_upper"] == pytest.approx(
        row["certified_upper"] / row["max_reference_activation"], rel=1e-15)


def test_a_bound_below_the_dataset_maximum_is_an_inconsistency(monkeypatch):
    f, gs, rows, images = _rows(np.random.default_rng(1))
    low = rows[0]["max_absolute_error"] * (1 - 1e-9)
    monkeypatch.setattr(certified, "upper_bounds",
                        lambda *a: {"upper": low, "interval_bound": low})
    with pytest.raises(FigureInconsistency, match="above the certified upper bound"):
        certified_rows(f, gs, rows, images)


@pytest.mark.skipif(ART is None, reason="the authors' files are absent")
def test_the_command_exits_4_on_an_inconsistency(tmp_path, monkeypatch, capsys):
    imgs = np.random.default_rng(2).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    np.savez(tmp_path / "i.npz", images=imgs)
    monkeypatch.setattr(certified, "upper_bounds",
                        lambda *a: {"upper": 1e-12, "interval_bound": 1e-12})
    rc = main(["reproduce", "figure4", "--images", str(tmp_path / "i.npz"), "--certified",
               "--artifacts", str(ART), "--out", str(tmp_path / "o")])
    assert rc == 4 and "above the certified upper bound" in capsys.readouterr().err


def test_a_bad_search_budget_is_refused(tmp_path, capsys):
    np.savez(tmp_path / "i.npz", images=np.zeros((1, 28, 28), dtype=np.uint8))
    rc = main(["reproduce", "figure4", "--images", str(tmp_path / "i.npz"),
               "--certified-search", "0", "--artifacts", str(tmp_path), "--out", str(tmp_path)])
    assert rc == 2 and "--certified-search" in capsys.readouterr().err

