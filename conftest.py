"""Repository-wide pytest configuration: Hypothesis profile ``ci`` unless
``--hypothesis-profile`` names another (the profiles are registered by the
slth-check pytest plugin)."""

from hypothesis import settings

import slth_check.pytest_plugin  # noqa: F401  (registers the profiles)

settings.load_profile("ci")
