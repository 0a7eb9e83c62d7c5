"""User functions for the sandbox tests (loaded by MODULE:ATTR in the worker)."""

from __future__ import annotations

import os


def describe(*arrays):
    """What the function received: contiguity, strides, dtype, and its process id."""
    return [(a.flags.c_contiguous, a.strides, a.dtype.str) for a in arrays], os.getpid()


def add(a, b):
    return a + b


def exit_on_negative(a, b):
    if a.min() < 0:
        os._exit(0)
    return a + b


def modify_second(a, b):
    b[...] = 0
    return a
