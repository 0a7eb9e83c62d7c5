"""Tests that kill mutants of slth_check.conv (scripts/mutation.py)."""
