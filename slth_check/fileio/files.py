"""Safe file input and output: every reader checks before it allocates.

:func:`load_npz` is the one reader of ``.npz`` archives in the package (the
validators' networks, the witnesses).  It never unpickles and never trusts a
header: each member's ``.npy`` header is parsed first
(``numpy.lib.format.read_magic`` and ``read_array_header_1_0/2_0``), its
shape times item size must equal the bytes the member actually holds
(``ZipInfo.file_size``), the dtype must be numeric (or text for the members
named in ``text_keys``), and the total must stay below :data:`MAX_NPZ_BYTES`.
Only then is the data read.  An empty, truncated or corrupt file is refused
with one line naming the file (:class:`~slth_check.errors.InputError`, exit 2).

:func:`ensure_writable_dir` checks an output folder *before* a computation by
creating it and writing and deleting a probe file.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from numpy.lib import format as npformat

from slth_check.errors import InputError
from slth_check.tensors import format_bytes

#: Largest total of array bytes that :func:`load_npz` accepts from one archive.
MAX_NPZ_BYTES = 2 * 2**30
#: Largest number of members in one archive.
MAX_NPZ_MEMBERS = 10_000
#: dtype kinds accepted for data arrays: bool, signed, unsigned, float.
NUMERIC_KINDS = "biuf"
#: dtype kinds accepted for the members named in ``text_keys``.
TEXT_KINDS = "U"


def _header(fp, what: str, path: Path, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """Read one member's .npy magic and header (nothing else) and return shape, dtype."""
    try:
        version = npformat.read_magic(fp)
        if version == (1, 0):
            shape, _fortran, dtype = npformat.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _fortran, dtype = npformat.read_array_header_2_0(fp)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, EOFError, OSError, zlib.error, zipfile.BadZipFile,
            SyntaxError) as exc:
        raise InputError(f"{what}: {path} member {key!r} has no valid .npy header "
                         f"({_one_line(exc)})") from exc
    return tuple(int(s) for s in shape), np.dtype(dtype)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _member_bytes(zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, is_text: bool,
                  what: str, path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and bytes of data of one .npz member, from its header alone, after
    checking its dtype (a unicode string when ``is_text``, else bool, integer or float),
    its shape and that the member holds exactly that many bytes."""
    try:
        with zf.open(info) as fp:
            shape, dtype = _header(fp, what, path, key)
            header_len = fp.tell()
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError) as exc:
        # RuntimeError: an encrypted member
        raise InputError(f"{what}: {path} member {key!r} cannot be read "
                         f"({_one_line(exc)})") from exc
    allowed = TEXT_KINDS if is_text else NUMERIC_KINDS
    if dtype.kind not in allowed or dtype.hasobject or dtype.fields is not None \
            or dtype.subdtype is not None:
        want = "a unicode string" if is_text else "a bool, integer or float array"
        raise InputError(f"{what}: {path} member {key!r} has dtype {dtype}, expected "
                         f"{want}")
    if any(s < 0 for s in shape):
        raise InputError(f"{what}: {path} member {key!r} has a negative dimension "
                         f"in its shape {shape}")
    nbytes = math.prod(shape) * dtype.itemsize
    held = info.file_size - header_len
    if nbytes != held:
        raise InputError(f"{what}: {path} member {key!r} claims shape {shape} of "
                         f"{dtype} ({format_bytes(nbytes)}) but holds "
                         f"{format_bytes(max(held, 0))} of data: header and data "
                         f"do not match")
    return shape, dtype, nbytes


def load_npz(path: str | Path, what: str, *, text_keys: Iterable[str] = (),
             max_bytes: int | None = None, kind: str = ".npz archive") -> dict[str, np.ndarray]:
    """Load an ``.npz`` archive as ``{name: array}``, checking every header first.

    ``what`` names the argument in messages (``--target``, ``witness``).
    Members listed in ``text_keys`` may hold a unicode string (a witness's
    JSON ``meta``); every other member must be a bool, integer or float array.
    ``max_bytes`` (default :data:`MAX_NPZ_BYTES`) caps the sum of the arrays'
    sizes; ``kind`` names the expected file in messages.  Raises
    ``FileNotFoundError`` for a missing file and
    :class:`~slth_check.errors.InputError` (a ``ValueError``) for anything
    that is not such an archive, before allocating from its claims.
    """
    path = require_file(path, what)
    cap = MAX_NPZ_BYTES if max_bytes is None else int(max_bytes)
    text = frozenset(text_keys)
    if path.stat().st_size == 0:
        raise InputError(f"{what}: {path} is empty (0 bytes), expected a {kind}")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise InputError(f"{what}: {path} is not a {kind} (not a zip file, or "
                         f"truncated: {_one_line(exc)})") from exc
    out: dict[str, np.ndarray] = {}
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_NPZ_MEMBERS:
            raise InputError(f"{what}: {path} has {len(infos)} members, more than the "
                             f"{MAX_NPZ_MEMBERS} allowed")
        plan: list[tuple[zipfile.ZipInfo, str]] = []
        total = 0
        for info in infos:
            if not info.filename.endswith(".npy") or info.is_dir():
                raise InputError(f"{what}: {path} member {info.filename!r} is not a .npy "
                                 f"array")
            key = info.filename[:-4]
            if key in out or any(k == key for _, k in plan):
                raise InputError(f"{what}: {path} holds two members named {key!r}")
            shape, dtype, nbytes = _member_bytes(zf, info, key, key in text, what, path)
            total += nbytes
            if total > cap:
                raise InputError(f"{what}: {path} holds more than {format_bytes(cap)} of "
                                 f"arrays (member {key!r}: shape {shape} of {dtype}, "
                                 f"{format_bytes(nbytes)}); the limit is "
                                 f"slth_check.fileio.files.MAX_NPZ_BYTES")
            plan.append((info, key))
        for info, key in plan:
            try:
                with zf.open(info) as fp:
                    out[key] = npformat.read_array(fp, allow_pickle=False)
            except (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
                raise InputError(f"{what}: {path} member {key!r} is truncated or corrupt "
                                 f"({_one_line(exc)})") from exc
    return out


def require_file(path: str | Path, what: str) -> Path:
    """``path`` as a Path naming an existing file: ``FileNotFoundError`` when nothing is
    there, :class:`~slth_check.errors.InputError` naming ``what`` when it is a folder
    (or anything else that is not a regular file)."""
    from slth_check.errors import InputError

    path = Path(path)
    if path.is_dir():
        raise InputError(f"{what}: {path} is a folder, expected a file")
    if not path.exists():
        raise FileNotFoundError(f"{what}: no such file {path}")
    if not path.is_file():
        raise InputError(f"{what}: {path} is not a regular file")
    return path


def ensure_writable_dir(path: str | Path, what: str = "--out") -> Path:
    """Create the folder ``path`` if needed and prove it writable with a probe file.

    Called before a computation so that a folder that cannot be written fails
    at once (exit 2), not after the work.  Raises
    :class:`~slth_check.errors.InputError` naming ``what``.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".slth-check-probe-")
        try:
            os.write(fd, b"probe")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or _one_line(exc)
        raise InputError(f"{what}: cannot write to the folder {path} ({reason})") from exc
    return path


def ensure_writable_file(path: str | Path, what: str) -> Path:
    """Check that the file ``path`` can be created: its folder is writable and it is no folder."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{what}: {path} is a folder, expected a file name")
    ensure_writable_dir(path.parent if str(path.parent) else Path("."), what)
    return path


def _umask() -> int:
    """The process umask (read without changing it where /proc allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write a file atomically: a temporary file in the same folder, then rename.

    The file gets the mode an ordinary ``open`` would give (``0666 & ~umask``, so
    0644 under umask 022), not ``mkstemp``'s private 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# -- the one .npz writer (deterministic bytes) and its seal -------------------------
def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A deterministic ``.npz`` (fixed zip timestamps), readable by ``numpy.load``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            member = io.BytesIO()
            npformat.write_array(member, np.asarray(arr), allow_pickle=False)  # 0-d stays 0-d
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()

def digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the arrays (names, dtypes, shapes and bytes, in name order), the
    ``sha256`` entry itself excluded."""
    import hashlib

    h = hashlib.sha256()
    for name in sorted(k for k in arrays if k != "sha256"):
        a = np.ascontiguousarray(np.atleast_1d(arrays[name]))  # 0-d reads back as (1,)
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def sealed_npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """:func:`npz_bytes` with a ``sha256`` entry (:func:`digest`): a checkpoint whose
    numbers were edited afterwards is told by :func:`is_sealed`."""
    return npz_bytes({**arrays, "sha256": np.array(digest(arrays))})


def is_sealed(arrays: dict[str, np.ndarray]) -> bool:
    """Do the arrays carry a ``sha256`` entry equal to their :func:`digest`?"""
    seal = arrays.get("sha256")
    return seal is not None and np.asarray(seal).size == 1 \
        and str(np.asarray(seal).reshape(-1)[0]) == digest(arrays)


def user_cache_dir() -> Path:
    """slth-check's folder in the user cache: ``$XDG_CACHE_HOME/slth-check``, else
    ``~/.cache/slth-check`` (not created here)."""
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "slth-check"


def sha256(path: str | Path) -> str:
    """The SHA-256 of a file, read in blocks of 1 MiB."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
