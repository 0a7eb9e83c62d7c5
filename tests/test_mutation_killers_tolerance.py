"""Tests that kill mutants of slth_check.validate.conv2d.tolerance (scripts/mutation.py)."""
