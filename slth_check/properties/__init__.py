"""The property suite of slth-check, shipped with the package.

Each ``test_<statement>.py`` module checks one statement of the paper with
Hypothesis (Definition 1, Proposition 1, Lemma 1 and Lemma 2, Theorem 1, the
certificate, random subset sum). Run it against the reference or against another
conv2d (same signature as ``slth_check.conv2d``)::

    pytest --pyargs slth_check.properties
    pytest --pyargs slth_check.properties --slth-impl mypkg.ops:conv
    SLTH_CHECK_IMPL=mypkg.ops:conv pytest --pyargs slth_check.properties
    pytest --pyargs slth_check.properties --slth-impl mypkg.ops:conv --slth-xfails xfails.txt

``--slth-xfails FILE`` lists test ids, one a line (``#`` starts a comment); the
matching tests are marked xfail, as in array-api-tests. The repository's
``properties/`` folder holds shims that import these same tests (one copy).
"""

MODULES = ("test_certify", "test_definition1", "test_lemma1_lemma2", "test_proposition1",
           "test_rss", "test_theorem1")
"""The property modules, one per statement (the shims in ``properties/`` mirror them)."""
