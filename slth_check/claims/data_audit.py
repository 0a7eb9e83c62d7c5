"""Audit of what the paper says about its own data (section 3), computed from the authors'
files: the 1-norms of the trained kernels, the size of the Fashion-MNIST filters against the
MNIST ones, and the stored test accuracies.  Without the files every entry is ``unknown``."""

from __future__ import annotations

from typing import Any

import numpy as np

from slth_check.claims.base import AuditEntry

#: The paper's figures (section 3): kernel 1-norms, the filter ratio, the test accuracies.
PAPER_NORMS = (50.0, 15000.0)
PAPER_RATIO = 2.0
PAPER_ACCURACY = {"MNIST": 0.9899, "FashionMNIST": 0.8912}
CONV_WEIGHTS = ("conv1.weight", "conv2.weight")


def _models() -> dict[str, dict[str, Any]] | None:
    from slth_check.errors import InputError
    from slth_check.fileio.bson import load_cnnslth
    from slth_check.fileio.datasets import artifacts_dir

    try:
        folder = artifacts_dir(download=False)
    except InputError:
        return None
    return {ds: load_cnnslth(folder / f"lenet5-{ds}.bson") for ds in PAPER_ACCURACY}


def _unknown(item: str, stated: str) -> AuditEntry:
    return AuditEntry("data", item, stated, "the authors' files are absent "
                      "(slth-check data fetch)", "unknown", "not checked")


def norms_entry(models: dict[str, dict[str, Any]]) -> AuditEntry:
    """"1-norms of the kernels from 50 to 15000 roughly": whole-tensor l1 of every weight
    tensor (dense layers included), and of the conv kernels per output channel."""
    l1 = [float(np.abs(a).sum()) for w in models.values() for k, a in w.items()
          if k.endswith(".weight")]
    per_channel = [float(np.abs(w[k]).sum(axis=(0, 1, 2)).min()) for w in models.values()
                   for k in CONV_WEIGHTS] + [float(np.abs(w[k]).sum(axis=(0, 1, 2)).max())
                                             for w in models.values() for k in CONV_WEIGHTS]
    lo, hi = min(l1), max(l1)
    ok = PAPER_NORMS[0] / 1.5 <= lo <= PAPER_NORMS[0] * 1.5 and \
        PAPER_NORMS[1] / 1.5 <= hi <= PAPER_NORMS[1] * 1.5
    return AuditEntry("data", "1-norms of the trained kernels",
                      "from 50 to 15000 roughly, for both datasets",
                      f"whole-tensor l1 of the weight tensors {lo:.1f} .. {hi:.1f} (dense layers "
                      f"included); conv kernels per output channel {min(per_channel):.1f} .. "
                      f"{max(per_channel):.1f}",
                      "confirmed" if ok else "discrepancy",
                      "far above Theorem 1's ||K||_1 <= 1 either way: the experiment runs "
                      "outside the theorem's class (the paper says so)")


def ratio_entry(models: dict[str, dict[str, Any]]) -> AuditEntry:
    """"Fashion-MNIST resulted in filters with larger weights (up to a factor 2, roughly)":
    max |w| and l1 of each conv kernel, Fashion-MNIST over MNIST."""
    m, f = models["MNIST"], models["FashionMNIST"]
    max_ratio = max(float(np.abs(f[k]).max() / np.abs(m[k]).max()) for k in CONV_WEIGHTS)
    l1_ratio = max(float(np.abs(f[k]).sum() / np.abs(m[k]).sum()) for k in CONV_WEIGHTS)
    ok = PAPER_RATIO / 1.5 <= max_ratio <= PAPER_RATIO * 1.5  # the measure: max |w|
    return AuditEntry("data", "Fashion-MNIST filters against MNIST's",
                      "larger weights, up to a factor 2 roughly",
                      f"largest ratio of max|w| {max_ratio:.2f}, of l1 {l1_ratio:.2f} (conv1, "
                      f"conv2)", "confirmed" if ok else "discrepancy",
                      "the paper's explanation of the worse approximation at small n for "
                      "Fashion-MNIST rests on this factor")


def accuracy_entries(models: dict[str, dict[str, Any]]) -> list[AuditEntry]:
    """The stored ``test_acc`` of each model against the accuracy the paper reports."""
    out = []
    for ds, stated in PAPER_ACCURACY.items():
        acc = models[ds].get("test_acc")
        got = None if acc is None else float(np.asarray(acc).ravel()[0])
        ok = got is not None and abs(got - stated) < 5e-5
        out.append(AuditEntry("data", f"test accuracy of LeNet5 on {ds}", f"{stated:.2%}",
                              "not stored" if got is None else f"{got:.4%} (stored test_acc)",
                              "confirmed" if ok else "discrepancy",
                              "the trained model is the one the paper reports"))
    return out


def data_audit() -> list[AuditEntry]:
    """Every entry of this audit (``unknown`` ones when the authors' files are absent)."""
    models = _models()
    if models is None:
        return [_unknown("1-norms of the trained kernels", "from 50 to 15000 roughly"),
                _unknown("Fashion-MNIST filters against MNIST's", "up to a factor 2"),
                _unknown("test accuracies", "98.99 % (MNIST), 89.12 % (Fashion-MNIST)")]
    return [norms_entry(models), ratio_entry(models), *accuracy_entries(models)]


__all__ = ["PAPER_ACCURACY", "PAPER_NORMS", "PAPER_RATIO", "accuracy_entries", "data_audit",
           "norms_entry", "ratio_entry"]
