"""Lemma 1 and Lemma 2 on the proof's construction, certified exactly.

A shim: the tests are those of ``slth_check.properties.test_lemma1_lemma2`` (one copy, shipped
in the wheel for ``pytest --pyargs slth_check.properties``); pytest collects the
imported ``test_*`` functions here.
"""

from slth_check.properties.test_lemma1_lemma2 import *  # noqa: F403
