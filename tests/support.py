"""Helpers shared by several test files (imported as ``support``: pytest puts tests/ on
``sys.path``)."""

from __future__ import annotations

import builtins
import re
import sys
from typing import Any

import pytest


def without_times(o: Any) -> Any:
    """A report with its run metadata, timings and durations in prose removed (the only
    parts allowed to differ between two runs of the same seed)."""
    if isinstance(o, dict):
        return {k: without_times(v) for k, v in o.items()
                if k not in ("run", "seconds", "start", "end")}
    if isinstance(o, list):
        return [without_times(v) for v in o]
    if isinstance(o, str):
        return re.sub(r" in [0-9.]+ s", "", o)
    return o


def tcp_local_cluster(distributed: Any) -> Any:
    """A 2-worker Dask LocalCluster on ``tcp://``; skips (never fails) when a loaded machine
    cannot start one in time."""
    try:
        return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                        protocol="tcp://", dashboard_address=":0")
    except (TimeoutError, OSError) as exc:
        pytest.skip(f"a Dask LocalCluster did not start here ({type(exc).__name__}: {exc})")


def skip_if_unreachable(code: int, err: str) -> None:
    """Skip when the command gave up on a scheduler that did not answer in time (load)."""
    if code == 2 and "cannot reach the Dask scheduler" in err:
        pytest.skip(f"the scheduler did not answer within the timeout: {err.strip()}")


def hide_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import dask`` / ``import distributed`` fail, as without the extra."""
    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.split(".")[0] in ("distributed", "dask"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    for name in ("dask", "distributed"):  # importlib too, even once they were imported
        monkeypatch.setitem(sys.modules, name, None)


def shared_artifacts():
    """The authors' files for the tests: ``$SLTH_CHECK_ARTIFACTS``, else
    ``../shared/data/cnnslth`` beside the repository; None when absent (tests skip)."""
    import os
    from pathlib import Path

    env = os.environ.get("SLTH_CHECK_ARTIFACTS")
    for c in ([Path(env)] if env else []) + [
            Path(__file__).resolve().parents[2] / "shared" / "data" / "cnnslth"]:
        if (c / "lenet5-MNIST.bson").is_file():
            return c
    return None
