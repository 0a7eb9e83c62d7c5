"""Random subset sum: the exact methods agree; milp and z3 certificates are honest.

A shim: the tests are those of ``slth_check.properties.test_rss`` (one copy, shipped
in the wheel for ``pytest --pyargs slth_check.properties``); pytest collects the
imported ``test_*`` functions here.
"""

from slth_check.properties.test_rss import *  # noqa: F403
