"""Hostile ``validate pruned`` files (issue 18, point 3): a gap in the layer numbering and
bias masks that are not binary are input errors (exit 2, naming the file and the array),
never a network read some other way and certified ``holds``."""

from __future__ import annotations

import numpy as np
import pytest

from slth_check.cli.main import main


def _pair(tmp_path, *, gap=False, sb=None):
    """Two layers with a constant error 1 in layer 3 (``gap`` drops layer 2 from every
    file, so a reader that stops at the first gap sees the harmless layer 1 only)."""
    one = np.ones((1, 1, 1, 1))
    T = {"K1": one, "K2": one, "K3": 3 * one}
    R = {"U1": one, "V1": one, "U2": one, "V2": one, "U3": one, "V3": one}
    M = {"S1": one, "T1": one, "S2": one, "T2": one, "S3": one, "T3": one}
    if gap:
        for d in (T, R, M):
            for k in [k for k in d if k.endswith("2")]:
                del d[k]
    if sb is not None:
        T.update({"b1": np.zeros(1)})
        R.update({"Ub1": np.ones(1)})
        M.update({"Sb1": np.asarray([sb])})
    paths = []
    for name, d in (("T", T), ("R", R), ("M", M)):
        p = tmp_path / f"{name}.npz"
        np.savez(p, **d)
        paths.append(str(p))
    return paths


def _run(paths, capsys):
    rc = main(["validate", "pruned", "--target", paths[0], "--random", paths[1],
               "--masks", paths[2], "--eps", "0.5"])
    return rc, capsys.readouterr()


def test_layers_numbered_with_a_gap_are_refused(tmp_path, capsys):
    rc, cap = _run(_pair(tmp_path, gap=True), capsys)
    assert rc == 2, cap.out
    assert "K1, K3" in cap.err and "T.npz" in cap.err and "Traceback" not in cap.err


def test_without_the_gap_the_same_network_is_violated(tmp_path, capsys):
    """The control: layer 3's error (3 - 1 = 2 at X = 1) is seen when layers are 1..3."""
    rc, cap = _run(_pair(tmp_path), capsys)
    assert rc == 1, cap.out + cap.err


@pytest.mark.parametrize("sb", [0.5, 2.0, np.nan, -1.0])
def test_a_bias_mask_that_is_not_binary_is_refused(tmp_path, capsys, sb):
    rc, cap = _run(_pair(tmp_path, sb=sb), capsys)
    assert rc == 2, cap.out
    assert "Sb1" in cap.err and "M.npz" in cap.err and "binary" in cap.err


@pytest.mark.parametrize("sb", [0.0, 1.0, True])
def test_a_binary_bias_mask_is_read(tmp_path, capsys, sb):
    rc, cap = _run(_pair(tmp_path, sb=sb), capsys)
    assert rc == 1, cap.err  # read and judged (layer 3's error), not refused


def test_a_bias_for_a_layer_that_does_not_exist_is_refused(tmp_path, capsys):
    paths = _pair(tmp_path)
    T = dict(np.load(paths[0]))
    T["b7"] = np.zeros(1)
    np.savez(paths[0], **T)
    rc, cap = _run(paths, capsys)
    assert rc == 2 and "b7" in cap.err
