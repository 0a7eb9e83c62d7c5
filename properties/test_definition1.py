"""Definition 1 (convolution): rounding bound, linearity, batching, scipy oracle.

A shim: the tests are those of ``slth_check.properties.test_definition1`` (one copy, shipped
in the wheel for ``pytest --pyargs slth_check.properties``); pytest collects the
imported ``test_*`` functions here.
"""

from slth_check.properties.test_definition1 import *  # noqa: F403
