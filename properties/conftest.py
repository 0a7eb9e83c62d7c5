"""The property suite's configuration: that of ``slth_check.properties`` (one copy)."""

from slth_check.properties.conftest import conv_impl, pytest_configure  # noqa: F401
