"""The authors' files on demand (``slth-check data fetch | path | verify``).

The 14 files of the authors' repository ``ArthurWalraven/cnnslth`` (commit
:data:`COMMIT`, folder ``saves/``: two trained LeNet5 and their RSS results for
n = 5 .. 30) are listed in :data:`REGISTRY` with their SHA-256.  They are
downloaded with pooch into the user cache on first use (``pooch.os_cache``;
``$SLTH_CHECK_DATA_DIR`` moves it), from GitHub or from the base URL in
``$SLTH_CHECK_DATA_URL`` (a mirror).  An offline copy is used as it is from
``--artifacts DIR`` or ``$SLTH_CHECK_ARTIFACTS``.  Every file is checked against
its checksum wherever it comes from: a corrupted or wrong file is refused
(exit 2, naming it); no network gives one message saying what to download and
where to put it.
"""

from __future__ import annotations

import os
from pathlib import Path

from slth_check.errors import InputError
from slth_check.fileio.files import sha256

COMMIT = "13c1d6483975390b2d7508dc1670e4465be2fd01"
REPOSITORY = "https://github.com/ArthurWalraven/cnnslth"
BASE_URL = f"https://raw.githubusercontent.com/ArthurWalraven/cnnslth/{COMMIT}/saves/"

#: File name -> SHA-256 of the authors' files (``saves/`` at :data:`COMMIT`).
REGISTRY = {
    "lenet5-FashionMNIST-RSS-n10-hInf.bson":
        "f1bf431a42a549de4d23d95715a5505e2b2b76aeef2b91d7788e25d22765c189",
    "lenet5-FashionMNIST-RSS-n15-hInf.bson":
        "7ab6d80f9352328b71aced194264b0e1d7b2d2383073ffd2d24cad1b7fe2eed8",
    "lenet5-FashionMNIST-RSS-n20-hInf.bson":
        "f0358e7712f913510b4ef240c06c0904fb6e41089a0df6e5354c8ef5375ba374",
    "lenet5-FashionMNIST-RSS-n25-hInf.bson":
        "f2b3d3fdfd7ef0dfdd7bd7320b49f4703926c4b7cadabe312bb30208c886f65d",
    "lenet5-FashionMNIST-RSS-n30-hInf.bson":
        "1076e8cf3635c025fef9a87c11a47de305fba6333222a4cf6abf34558f355a20",
    "lenet5-FashionMNIST-RSS-n5-hInf.bson":
        "0d07c7bd6c7fe43687529494bdb74d33de6ead8b5df6c51f219d5f1130b34552",
    "lenet5-FashionMNIST.bson":
        "ca70406988ceb8fe3c09f5b4bfe6c4438e42e1252416c570725474077d76c607",
    "lenet5-MNIST-RSS-n10-hInf.bson":
        "ac0f3b82f17986872839477fad0bd277cabba6e56bd03a36133efb036d78f44c",
    "lenet5-MNIST-RSS-n15-hInf.bson":
        "a60237be8499e4bf008df64d88fa5d9048134ad2beb60c2f6b4ebccaad86fb66",
    "lenet5-MNIST-RSS-n20-hInf.bson":
        "f8961d5f05ce6d73546ac6109f0d3edd64c1fb499c5157a8e03db7d5ee3d0af9",
    "lenet5-MNIST-RSS-n25-hInf.bson":
        "202649c4ee4273cb0ad9563c1a52e7910c9297e6e649cebdb7b6f09801d51c4e",
    "lenet5-MNIST-RSS-n30-hInf.bson":
        "c2d5f3e522484469391c9139f6c9e49c8d948bcb6cc87b2c3d10875094cbd25f",
    "lenet5-MNIST-RSS-n5-hInf.bson":
        "539f2c8856b52878ce495ac9d3d5c1770c5751b4bfc3e615ea2bc38ba2caba7b",
    "lenet5-MNIST.bson":
        "aac97607d0b9b004e28be806fafe1def6ce00cc1932fcf696420c7e0e410daf0",
}


def how_to_get(where: Path | str) -> str:
    """What to download and where to put it (the offline message)."""
    return (f"download the 14 files of {REPOSITORY}/tree/{COMMIT[:7]}/saves into {where} "
            "and pass --artifacts DIR (or set SLTH_CHECK_ARTIFACTS=DIR), or run "
            "`slth-check data fetch` on a machine with network")


def cache_dir() -> Path:
    """Where downloads go: ``$SLTH_CHECK_DATA_DIR``, else the user cache (pooch)."""
    env = os.environ.get("SLTH_CHECK_DATA_DIR")
    if env:
        return Path(env)
    import pooch

    return Path(pooch.os_cache("slth-check")) / COMMIT[:7]


def verify(folder: str | Path, what: str = "--artifacts") -> Path:
    """``folder`` holding the 14 files, each equal to its checksum: InputError naming
    the first file missing, corrupted or wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{what}: no such folder {folder}; {how_to_get(folder)}")
    for name, digest in REGISTRY.items():
        path = folder / name
        if not path.is_file():
            raise InputError(f"{what}: {path} is missing; {how_to_get(folder)}")
        if sha256(path) != digest:
            raise InputError(f"{what}: {path} does not match its SHA-256 (corrupted, or "
                             f"not the authors' file of commit {COMMIT[:7]}); delete it and "
                             "fetch it again")
    return folder


def fetch(folder: str | Path | None = None) -> Path:
    """Download the missing files into ``folder`` (default :func:`cache_dir`) from
    ``$SLTH_CHECK_DATA_URL`` or GitHub, each checked by its SHA-256; the folder."""
    import pooch

    target = Path(folder) if folder is not None else cache_dir()
    base = os.environ.get("SLTH_CHECK_DATA_URL") or BASE_URL
    repo = pooch.create(path=target, base_url=base.rstrip("/") + "/",
                        registry={k: f"sha256:{v}" for k, v in REGISTRY.items()})
    for name in REGISTRY:
        try:
            repo.fetch(name, progressbar=False)
        except ValueError as exc:  # pooch: the hash of the download does not match
            raise InputError(f"data: {base}{name} does not match its SHA-256 ({exc}); "
                             "refused") from None
        except Exception as exc:  # no network, HTTP error, DNS: one clear message
            raise InputError(f"data: cannot download {name} from {base} "
                             f"({type(exc).__name__}); {how_to_get(target)}") from None
    return verify(target, "data")


def artifacts_dir(explicit: str | Path | None = None, *, download: bool = True) -> Path:
    """The folder of the authors' files, checked: ``explicit`` (``--artifacts``), else
    ``$SLTH_CHECK_ARTIFACTS``, else the cache, downloaded there when ``download``."""
    if explicit is not None:
        return verify(explicit, "--artifacts")
    env = os.environ.get("SLTH_CHECK_ARTIFACTS")
    if env:
        return verify(env, "SLTH_CHECK_ARTIFACTS")
    target = cache_dir()
    if all((target / name).is_file() for name in REGISTRY):
        return verify(target, "data")
    if not download:
        raise InputError(f"data: the authors' files are not in {target}; "
                         f"{how_to_get(target)}")
    return fetch(target)


__all__ = ["BASE_URL", "COMMIT", "REGISTRY", "REPOSITORY", "artifacts_dir", "cache_dir",
           "fetch", "how_to_get", "sha256", "verify"]
