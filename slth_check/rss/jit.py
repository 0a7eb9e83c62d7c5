"""numba compilation of the bulk kernels (:mod:`slth_check.rss.compiled`,
:mod:`slth_check.rss.sweep`, :mod:`slth_check.rss.merge`, :mod:`slth_check.rss.subsets`):
cached on disk, no bounds checks, unsigned indices.

numba keys a cached function by the content of the one file that defines it, but
:func:`slth_check.rss.compiled.solve_rows` inlines and calls code of the other kernel
modules: after a change to one of them alone (an upgrade, a checkout, an edit) the cache
would run the old code.  The cache therefore lives in a folder named by a digest of all
the kernel modules' sources (:func:`cache_dir`): any change to any of them starts a fresh
cache.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np

try:  # pragma: no cover - depends on the environment
    import numba

    AVAILABLE = True
    _CONFIG: Any = numba.config  # its settings are set at run time (no static attributes)
except ImportError:  # pragma: no cover
    AVAILABLE = False

#: Unsigned indices: numba emits no negative-index wraparound code for them.
U = np.uint64
ONE = np.uint64(1)


#: The modules whose numba functions are compiled by :func:`jit` (one kernel: they inline
#: and call one another), relative to the package.
KERNEL_MODULES = ("rss/jit.py", "rss/merge.py", "rss/sweep.py", "rss/subsets.py",
                  "rss/compiled.py")


def kernel_digest(root: Path | None = None) -> str:
    """SHA-256 of the sources of :data:`KERNEL_MODULES` under ``root`` (the package)."""
    root = Path(__file__).resolve().parent.parent if root is None else root
    h = hashlib.sha256()
    for name in KERNEL_MODULES:
        h.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return h.hexdigest()


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def cache_dir() -> str | None:
    """The kernel's numba cache folder, ``numba-kernels-<digest>`` (:func:`kernel_digest`)
    under ``$NUMBA_CACHE_DIR`` if set, else the package's ``__pycache__``, else
    ``$XDG_CACHE_HOME/slth-check`` (``~/.cache``); None when none is writable."""
    name = f"numba-kernels-{kernel_digest()[:20]}"
    if AVAILABLE and _CONFIG.CACHE_DIR:
        bases = [Path(_CONFIG.CACHE_DIR)]
    else:
        from slth_check.fileio.files import user_cache_dir

        bases = [Path(__file__).resolve().parent.parent / "__pycache__", user_cache_dir()]
    for base in bases:
        if _writable(base / name):
            return str(base / name)
    return None


def jit(f, inline: Literal["never", "always"] = "never"):
    """Compile ``f`` with numba, cached on disk in :func:`cache_dir` when there is one."""
    if not AVAILABLE:  # pragma: no cover - the kernel is never called without numba
        return f
    folder = cache_dir()
    if folder is None:  # pragma: no cover - no writable cache location
        return numba.njit(boundscheck=False, inline=inline)(f)
    saved = _CONFIG.CACHE_DIR
    _CONFIG.CACHE_DIR = folder  # read once, when the function's cache is set up
    try:
        return numba.njit(cache=True, boundscheck=False, inline=inline)(f)
    except RuntimeError:  # pragma: no cover - the folder vanished
        return numba.njit(boundscheck=False, inline=inline)(f)
    finally:
        _CONFIG.CACHE_DIR = saved


def inlined(f):
    """:func:`jit` inlined into its callers (no call, no reference counting per step)."""
    return jit(f, inline="always")


__all__ = ["AVAILABLE", "KERNEL_MODULES", "ONE", "U", "cache_dir", "inlined", "jit",
           "kernel_digest"]
