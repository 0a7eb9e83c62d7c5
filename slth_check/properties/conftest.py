"""Shared fixtures of the property files: the conv2d under test."""

from __future__ import annotations

import importlib

import pytest

import slth_check


def load_impl(spec: str):
    """Load ``MODULE:ATTR`` as a callable, with a clear error."""
    if ":" not in spec:
        raise pytest.UsageError(f"--slth-impl: expected MODULE:ATTR, got {spec!r}")
    mod, attr = spec.split(":", 1)
    try:
        obj = importlib.import_module(mod)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise pytest.UsageError(f"--slth-impl: cannot load {spec!r}: {exc}") from exc
    if not callable(obj):
        raise pytest.UsageError(f"--slth-impl: {spec!r} is not callable")
    return obj


@pytest.fixture(scope="session")
def conv_impl(pytestconfig):
    """The conv2d under test: the reference unless ``--slth-impl`` names another."""
    spec = pytestconfig.getoption("--slth-impl")
    return load_impl(spec) if spec else slth_check.conv2d
