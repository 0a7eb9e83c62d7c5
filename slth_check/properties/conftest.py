"""Configuration of the property suite: the conv2d under test and the default profile.

``--slth-impl MODULE:ATTR`` (or ``SLTH_CHECK_IMPL``) and ``--slth-xfails FILE`` are
options of the slth-check pytest plugin (``slth_check.testing.plugin``), which
resolves the implementation once, at configuration, with ``pkgutil.resolve_name``
and the current folder on ``sys.path``; a name that cannot be loaded is a usage
error before any test runs. The Hypothesis profile is ``slth-ci`` unless
``--hypothesis-profile`` names another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Default to the ``slth-ci`` profile (derandomised, no deadline)."""
    from hypothesis import settings

    from slth_check.testing.plugin import register_profiles

    register_profiles()
    if not config.getoption("--hypothesis-profile", None):
        settings.load_profile("slth-ci")


@pytest.fixture(scope="session")
def conv_impl(pytestconfig: pytest.Config) -> Callable[..., Any]:
    """The conv2d under test (a :class:`slth_check.testing.user_conv.UserConv`: the modes it
    implements in ``.paddings``, ``.strides``): the reference unless ``--slth-impl``
    names another."""
    from slth_check.testing.plugin import IMPL_KEY, load_impl

    impl = pytestconfig.stash.get(IMPL_KEY, None)
    if impl is not None:
        return impl
    # the reference, or the plugin was not configured (e.g. -p no:slth_check): load here
    return load_impl(pytestconfig.getoption("--slth-impl", None),
                     pytestconfig.getoption("--slth-paddings", None),
                     pytestconfig.getoption("--slth-strides", None))
