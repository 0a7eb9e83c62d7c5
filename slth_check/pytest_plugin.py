"""pytest plugin registered by slth-check: Hypothesis profiles and options.

Profiles (choose with ``--hypothesis-profile``): ``ci`` (derandomised, the
default), ``dev`` and ``thorough`` (10x the examples of ``dev``).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow,
                                                       HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=25, derandomize=True, print_blob=True, **_common)
settings.register_profile("dev", max_examples=100, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)
settings.load_profile("ci")


def pytest_addoption(parser) -> None:  # noqa: ANN001
    group = parser.getgroup("slth-check")
    group.addoption("--slth-impl", default=None,
                    help="MODULE:ATTR of a conv2d to put under the Definition 1 properties")


def pytest_report_header(config) -> list[str]:  # noqa: ANN001
    impl = config.getoption("--slth-impl")
    return [f"slth-check: conv2d under test = {impl or 'slth_check.conv2d (reference)'}"]
