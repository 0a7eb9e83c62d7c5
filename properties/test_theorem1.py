"""Theorem 1 on the construction of Appendix B, with a sound certified bound.

A shim: the tests are those of ``slth_check.properties.test_theorem1`` (one copy, shipped
in the wheel for ``pytest --pyargs slth_check.properties``); pytest collects the
imported ``test_*`` functions here.
"""

from slth_check.properties.test_theorem1 import *  # noqa: F403
