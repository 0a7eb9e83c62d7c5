"""Figure 4 on real images (issue 22, point 1): IDX files written by the tests (raw and
gzip), malformed ones refused with exit 2 naming the file, and the maximum over the
images equal to an image-by-image computation."""

from __future__ import annotations

import gzip
import json
import struct

import numpy as np
import pytest
from support import shared_artifacts

from slth_check.cli import main
from slth_check.fileio.idx import read_idx_images, read_images

ART = shared_artifacts()


def _idx(path, images, *, magic=b"\x00\x00\x08\x03", dims=None, cut=0, gz=False):
    dims = images.shape if dims is None else dims
    raw = magic + struct.pack(">3i", *dims) + images.astype(np.uint8).tobytes()
    raw = raw[:len(raw) - cut] if cut else raw
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_an_idx_file_reads_back_scaled(tmp_path, gz):
    imgs = np.random.default_rng(0).integers(0, 256, (3, 28, 28))
    got = read_idx_images(_idx(tmp_path / "t10k-images-idx3-ubyte", imgs, gz=gz))
    assert got.shape == (3, 28, 28) and np.array_equal(got * 255, imgs)


@pytest.mark.parametrize("kw,why", [
    ({"magic": b"\x00\x00\x08\x01"}, "expected images"),
    ({"magic": b"\x12\x34\x08\x03"}, "bad magic"),
    ({"dims": (4, 28, 28)}, "truncated or corrupt"),
    ({"cut": 10}, "truncated or corrupt"),
    ({"dims": (2, 0, 28)}, "not images"),
])
def test_a_malformed_idx_file_is_refused_naming_it(tmp_path, capsys, kw, why):
    imgs = np.zeros((2, 28, 28))
    path = _idx(tmp_path / "bad-idx3-ubyte", imgs, **kw)
    rc = main(["reproduce", "figure4", "--images", str(path), "--out", str(tmp_path / "o"),
               "--artifacts", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "bad-idx3-ubyte" in err and why in err, err


def test_npz_images_in_0_1_or_uint8(tmp_path):
    a = np.random.default_rng(1).random((2, 28, 28))
    np.savez(tmp_path / "i.npz", images=a)
    assert np.array_equal(read_images(tmp_path / "i.npz"), a)
    np.savez(tmp_path / "b.npz", images=a * 3)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        read_images(tmp_path / "b.npz")


@pytest.mark.skipif(ART is None, reason="the authors' files are absent")
def test_the_maximum_over_images_equals_the_image_by_image_value(tmp_path):
    from slth_check.experiment.lenet import figure4_error, lenet_conv
    from slth_check.fileio.bson import load_cnnslth

    imgs = np.random.default_rng(2).integers(0, 256, (5, 28, 28))
    path = _idx(tmp_path / "train-images-idx3-ubyte", imgs, gz=True)
    assert main(["reproduce", "figure4", "--images", str(path), "--artifacts", str(ART),
                 "--out", str(tmp_path / "o"), "--json", str(tmp_path / "f.json")]) == 0
    rows = json.loads((tmp_path / "f.json").read_text())["figure4_images"]
    f = lenet_conv(load_cnnslth(ART / "lenet5-MNIST.bson"))
    for row in rows:
        g = lenet_conv(load_cnnslth(ART / f"lenet5-MNIST-RSS-n{row['n']}-hInf.bson"))
        each = [figure4_error(f, g, (imgs[i].T / 255.0)[None, :, :, None]) for i in range(5)]
        # the batched path sums in another order: within the rounding bound of
        # tests/test_figure4_batched.py (1e-10 on each output; reference activations > 1)
        assert row["max_relative_error"] == pytest.approx(max(each), abs=1e-10)
        assert row["argmax_image"] == int(np.argmax(each))
