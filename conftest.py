"""Repository-wide pytest configuration: Hypothesis profile ``slth-ci`` unless
``--hypothesis-profile`` names another (``slth-dev``, ``slth-thorough``; registered by
the slth-check pytest plugin).

Bytecode caching is switched on for the run even where ``PYTHONDONTWRITEBYTECODE`` is set
(as in many containers): the suite starts dozens of Python processes (the xdist workers,
``pytest`` and ``slth-check`` subprocesses), and without ``__pycache__`` each of them
compiles the package and re-runs pytest's assertion rewriting from source, about a second
per process.  Only where the cached bytecode lives changes, never what runs.
"""

import os
import sys

from hypothesis import settings

from slth_check.testing.plugin import register_profiles

os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # the workers and subprocesses inherit it
sys.dont_write_bytecode = False

register_profiles()
settings.load_profile("slth-ci")
