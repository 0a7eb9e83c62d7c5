"""The authors' MNIST LeNet5 (conv part) for the LeNet5 benchmarks, or None when absent."""

from __future__ import annotations

from slth_check.errors import InputError
from slth_check.experiment.lenet import lenet_conv
from slth_check.fileio.bson import load_cnnslth
from slth_check.fileio.datasets import artifacts_dir
from slth_check.network import TargetCNN


def lenet_target() -> TargetCNN | None:
    """The target network from the authors' files; prints why and returns None when the
    files are absent (the benchmarks then exit 0)."""
    try:
        art = artifacts_dir(download=False)
    except InputError as exc:
        print(f"skipped: {exc}")
        return None
    return lenet_conv(load_cnnslth(art / "lenet5-MNIST.bson"))
