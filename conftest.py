"""Repository-wide pytest configuration: Hypothesis profile ``slth-ci`` unless
``--hypothesis-profile`` names another (``slth-dev``, ``slth-thorough``; registered by
the slth-check pytest plugin)."""

from hypothesis import settings

from slth_check.testing.plugin import register_profiles

register_profiles()
settings.load_profile("slth-ci")
