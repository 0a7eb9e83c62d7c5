"""Proposition 1: ||K*X||_max <= ||K||_1 ||X||_max, exactly, tightly, and proved.

A shim: the tests are those of ``slth_check.properties.test_proposition1`` (one copy, shipped
in the wheel for ``pytest --pyargs slth_check.properties``); pytest collects the
imported ``test_*`` functions here.
"""

from slth_check.properties.test_proposition1 import *  # noqa: F403
