"""Soundness of the certificate ``sup_error`` (the Theorem 1 machinery) on adversarial pairs.

A shim: the tests are those of ``slth_check.properties.test_certify`` (one copy, shipped
in the wheel for ``pytest --pyargs slth_check.properties``); pytest collects the
imported ``test_*`` functions here.
"""

from slth_check.properties.test_certify import *  # noqa: F403
