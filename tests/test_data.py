"""The authors' files on demand (issue 21, point 3; issue 18, point 8): served by a local
HTTP server (never the internet), downloaded into a cache, checked by SHA-256, refused
when corrupted, one clear message without network."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest
from support import shared_artifacts

from slth_check.cli.main import main
from slth_check.errors import InputError
from slth_check.fileio import datasets as data

ART = shared_artifacts()
needs_data = pytest.mark.skipif(ART is None, reason="the authors' files (../shared/data/cnnslth "
                                "or $SLTH_CHECK_ARTIFACTS) are absent")


@pytest.fixture
def server(tmp_path):
    """A folder served over http://127.0.0.1:<free port>/ in a thread."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.delenv("SLTH_CHECK_ARTIFACTS", raising=False)
    monkeypatch.setenv("SLTH_CHECK_DATA_DIR", str(tmp_path / "cache"))
    return monkeypatch


@needs_data
def test_download_then_cache_then_verify(server, env, capsys):
    root, url = server
    for name in data.REGISTRY:
        shutil.copy(ART / name, root / name)
    env.setenv("SLTH_CHECK_DATA_URL", url)
    assert main(["data", "fetch"]) == 0
    cache = data.cache_dir()
    assert sorted(p.name for p in cache.glob("*.bson")) == sorted(data.REGISTRY)
    for name in data.REGISTRY:  # served no more: the cache alone answers
        (root / name).unlink()
    assert data.artifacts_dir() == cache
    assert main(["data", "verify"]) == 0
    assert main(["data", "path"]) == 0
    assert str(cache) in capsys.readouterr().out


@needs_data
def test_a_corrupted_download_is_refused(server, env, capsys):
    root, url = server
    for name in data.REGISTRY:
        shutil.copy(ART / name, root / name)
    bad = "lenet5-MNIST-RSS-n20-hInf.bson"
    raw = bytearray((root / bad).read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte in the middle of the data
    (root / bad).write_bytes(bytes(raw))
    env.setenv("SLTH_CHECK_DATA_URL", url)
    assert main(["data", "fetch"]) == 2
    err = capsys.readouterr().err
    assert bad in err and "SHA-256" in err, err


@needs_data
def test_a_wrong_file_in_an_offline_folder_is_refused(tmp_path, env, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(ART, folder)
    (folder / "lenet5-MNIST.bson").write_bytes(b"not the file")
    assert main(["reproduce", "paper", "--artifacts", str(folder), "--out",
                 str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "lenet5-MNIST.bson" in err and "SHA-256" in err, err


def test_no_network_says_what_to_download_and_where(env, capsys):
    env.setenv("SLTH_CHECK_DATA_URL", "http://127.0.0.1:9/")  # discard port: refused
    assert main(["reproduce", "paper", "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert "cannot download" in err and "ArthurWalraven/cnnslth" in err
    assert str(data.cache_dir()) in err and "--artifacts DIR" in err


def test_a_missing_offline_folder_says_how_to_get_the_files(tmp_path, env):
    with pytest.raises(InputError, match="no such folder .*ArthurWalraven/cnnslth"):
        data.artifacts_dir(tmp_path / "nowhere")


def test_nothing_is_downloaded_when_asked_not_to(env):
    with pytest.raises(InputError, match="not in .*slth-check data fetch"):
        data.artifacts_dir(download=False)


def test_no_hard_coded_machine_path_in_the_package():
    from pathlib import Path

    import slth_check

    for p in Path(slth_check.__file__).parent.rglob("*.py"):
        text = p.read_text()
        assert "/work/" not in text and "shared/data" not in text, p
