"""Error inputs in the style of PyTorch's OpInfo: (inputs, exception, message pattern)."""

from __future__ import annotations

import numpy as np
import pytest

from slth_check import ConvLayer, TargetCNN, conv2d, conv2d_exact, conv2d_mp

K = np.ones((2, 2, 1, 1))
X = np.ones((3, 3, 1))

ERROR_INPUTS = [
    ("nan in K", (np.full((2, 2, 1, 1), np.nan), X, {}), ValueError, r"K: .*finite"),
    ("inf in X", (K, np.full((3, 3, 1), np.inf), {}), ValueError, r"X: .*finite"),
    ("K 3-D", (np.ones((2, 2, 1)), X, {}), ValueError, r"K: expected 4 dimensions"),
    ("X 2-D", (K, np.ones((3, 3)), {}), ValueError, r"X: expected 3 or 4 dimensions"),
    ("X 5-D", (K, np.ones((1, 1, 3, 3, 1)), {}), ValueError, r"X: expected 3 or 4"),
    ("channels", (np.ones((2, 2, 2, 1)), X, {}), ValueError, r"X: expected 2 channels"),
    ("int K", (np.ones((2, 2, 1, 1), dtype=int), X, {}), TypeError, r"K: .*floating"),
    ("int X", (K, np.ones((3, 3, 1), dtype=np.int64), {}), TypeError, r"X: .*floating"),
    ("bool X", (K, np.ones((3, 3, 1), dtype=bool), {}), TypeError, r"X: .*floating"),
    ("object K", (np.full((2, 2, 1, 1), "a", dtype=object), X, {}), TypeError, r"K: .*object"),
    ("string X", (K, "abc", {}), TypeError, r"X: .*floating"),
    ("valid too small", (np.ones((4, 4, 1, 1)), X, {"padding": "valid"}), ValueError,
     r"X: padding='valid' needs .*D >= d"),
    ("bad padding", (K, X, {"padding": "circular"}), ValueError, r"padding: expected one of"),
    ("bad stride", (K, X, {"stride": 0}), ValueError, r"stride: expected a positive integer"),
    ("float stride", (K, X, {"stride": 1.5}), ValueError, r"stride: expected a positive"),
    ("non-square K", (np.ones((2, 3, 1, 1)), X, {}), ValueError, r"K: expected a square"),
    ("non-square X", (K, np.ones((3, 4, 1)), {}), ValueError, r"X: expected a square"),
]


@pytest.mark.parametrize("fn", [conv2d, conv2d_exact, conv2d_mp],
                         ids=["conv2d", "conv2d_exact", "conv2d_mp"])
@pytest.mark.parametrize("name,args,exc,pattern", ERROR_INPUTS, ids=[e[0] for e in ERROR_INPUTS])
def test_error_inputs(fn, name, args, exc, pattern):
    Kx, Xx, kw = args
    with pytest.raises(exc, match=pattern):
        fn(Kx, Xx, **kw)


def test_network_errors():
    with pytest.raises(ValueError, match="layers: layer 1 has c1=2 but layer 2 has c0=3"):
        TargetCNN([ConvLayer(np.ones((1, 1, 1, 2))), ConvLayer(np.ones((1, 1, 3, 1)))])
    with pytest.raises(ValueError, match=r"bias: expected shape \(2,\)"):
        ConvLayer(np.ones((1, 1, 1, 2)), bias=np.ones(3))
    with pytest.raises(ValueError, match="pool: expected"):
        ConvLayer(np.ones((1, 1, 1, 2)), pool="median")
    with pytest.raises(ValueError, match="layers: expected at least one"):
        TargetCNN([])


# ------------------------------------------------------------------ size guards (issue 9)
# The guards refuse before allocating.  Cases that would need tens of GiB without the
# guard use the default limits; the others lower the limit so that, should a guard
# break, the test fails on a small allocation rather than exhausting memory.

import slth_check.tensors as tensors  # noqa: E402
from slth_check.construction import build_network  # noqa: E402
from slth_check.rss import solve, solve_many  # noqa: E402
from slth_check.tensors import check_entries, check_size, format_bytes  # noqa: E402


def test_format_bytes():
    assert [format_bytes(n) for n in (0, 1000, 3200, 2**30, 10**10 * 8, 2**60)] == \
        ["0 bytes", "1000 bytes", "3.12 KiB", "1 GiB", "74.5 GiB", "1.02e+03 PiB"]


def test_check_size_and_entries_messages():
    check_size("X", 4 * 2**30, what="this conv2d")  # at the limit: accepted
    with pytest.raises(ValueError, match=r"^X: this conv2d would allocate 4 GiB \(limit 1 GiB; "
                                         r"why\)$"):
        check_size("X", 4 * 2**30, what="this conv2d", limit=2**30, hint="why")
    with pytest.raises(ValueError, match=r"^X: e would hold 11 exact entries, about 1.38 KiB "
                                         r"\(limit 10 entries\)$"):
        check_entries("X", 11, what="e", limit=10)


def test_conv2d_guard_at_the_default_limit():
    """Without the guard this would allocate 18.6 GiB (im2col of a 50 x 50 kernel)."""
    with pytest.raises(ValueError, match=r"^X: this conv2d would allocate 18.6 GiB \(limit "
                                         r"4 GiB; N=1, D=1000, c0=1, d=50, c1=1: reduce"):
        conv2d(np.ones((50, 50, 1, 1)), np.ones((1000, 1000, 1)))


@pytest.mark.parametrize("stride,padding,ok", [(1, "paper", False), (4, "valid", True)])
def test_conv2d_guard_counts_the_output_and_windows(monkeypatch, stride, padding, ok):
    monkeypatch.setattr(tensors, "MAX_FLOAT_BYTES", 200_000)
    K, X = np.ones((5, 5, 1, 1)), np.ones((40, 40, 1))
    # stride 1: 48^2 padded + 40^2 * 25 windows + 40^2 outputs = 43 904 float64 = 343 KiB
    # stride 4, valid: 48^2 + 9^2 * 25 + 9^2 = 4 410 float64 = 34.5 KiB
    if ok:
        assert conv2d(K, X, stride=stride, padding=padding).shape == (9, 9, 1)
    else:
        with pytest.raises(ValueError, match=r"X: this conv2d would allocate 343 KiB "
                                             r"\(limit 195 KiB"):
            conv2d(K, X, stride=stride, padding=padding)


def test_conv2d_exact_guard_at_the_default_limit():
    # 9 kernel + 2000^2 input + 2004^2 padded + 2 * 2000^2 output and slice
    with pytest.raises(ValueError, match=r"^X: this conv2d_exact would hold 16,016,025 exact "
                                         r"entries, about 1.91 GiB \(limit 10,000,000"):
        conv2d_exact(np.ones((3, 3, 1, 1)), np.ones((2000, 2000, 1)))


@pytest.mark.parametrize("fn", [conv2d_exact, conv2d_mp], ids=["exact", "mp"])
def test_exact_guards(monkeypatch, fn):
    monkeypatch.setattr(tensors, "MAX_EXACT_ENTRIES", 100)
    fn(np.ones((2, 2, 1, 1)), np.ones((3, 3, 1)))  # 4 + 9 + 5^2 + 2 * 9 = 56 entries
    with pytest.raises(ValueError, match=rf"^X: this {fn.__name__} would hold 232 exact "
                                         r"entries, about 29 KiB \(limit 100 entries; N=1, "
                                         r"D=7, c0=1, d=2, c1=1"):
        fn(np.ones((2, 2, 1, 1)), np.ones((7, 7, 1)))  # 4 + 49 + 9^2 + 2 * 49


@pytest.mark.parametrize("dps", [0, -3, 1.5, True, "50", None, 10**6])
def test_conv2d_mp_rejects_nonsensical_precision(dps):
    with pytest.raises(ValueError, match=r"^dps: expected an integer number of decimal digits "
                                         r"in \[1, 100000\]"):
        conv2d_mp(np.ones((1, 1, 1, 1)), np.ones((2, 2, 1)), dps=dps)


def test_conv2d_mp_low_precision_is_still_close():
    """dps=0 used to return 0.125 for -0.18; dps=1 is coarse but honest."""
    K = np.array([[[[-0.3]]], [[[0.1]]]]).reshape(2, 1, 1, 1)
    K = np.concatenate([K, K], axis=1)
    X = np.full((2, 2, 1), 0.3)
    exact = conv2d(K, X)
    low = conv2d_mp(K, X, dps=1)
    assert np.allclose(np.array(low, dtype=float), exact, atol=0.1)


def test_build_network_guard_before_drawing():
    target = TargetCNN.from_kernels([np.ones((3, 3, 1, 2))])
    with pytest.raises(ValueError, match=r"^n: this build_network would allocate 101 GiB "
                                         r"\(limit 4 GiB; n = \[1000000000\] samples per layer"):
        build_network(target, n=[10**9], rng=0)


def test_build_network_guard_small_limit(monkeypatch):
    monkeypatch.setattr(tensors, "MAX_FLOAT_BYTES", 10_000)
    target = TargetCNN.from_kernels([np.ones((1, 1, 1, 1))])
    assert len(build_network(target, n=[8], rng=0).layers) == 1
    with pytest.raises(ValueError, match=r"^n: this build_network would allocate 18.6 KiB"):
        build_network(target, n=[1000], rng=0)


def test_rss_guards(monkeypatch):
    monkeypatch.setattr(tensors, "MAX_EXACT_ENTRIES", 30)
    assert solve(np.ones(20), 3.0).error == 0
    with pytest.raises(ValueError, match=r"^values: this solve would hold 31 exact entries"):
        solve(np.ones(31), 3.0)
    with pytest.raises(ValueError, match=r"^values: this solve would hold 31 exact entries"):
        solve([1.0] * 31, 3.0)
    monkeypatch.setattr(tensors, "MAX_FLOAT_BYTES", 2000)
    assert solve_many(np.ones((5, 4)), np.ones(5), workers=1).errors.shape == (5,)
    with pytest.raises(ValueError, match=r"^values: this solve_many would allocate 3.48 KiB "
                                         r"\(limit 1.95 KiB; m=10 instances of n=10 values"):
        solve_many(np.ones((10, 10), dtype=np.float32), np.ones(10), workers=1)


def test_solve_many_guard_at_the_default_limit():
    V = np.zeros((10**6, 1000), dtype=np.float32)  # lazily zeroed pages: nothing touched
    with pytest.raises(ValueError, match=r"^values: this solve_many would allocate 9.55 GiB"):
        solve_many(V, np.zeros(10**6), workers=1)


# ------------------------------------------------------------------ the safe .npz reader

from slth_check.errors import InputError  # noqa: E402
from slth_check.fileio.files import load_npz  # noqa: E402


def _npy(shape, descr="<f8", data=b"", version=(1, 0)) -> bytes:
    import io

    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": tuple(shape)}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buf, header)
    else:
        np.lib.format.write_array_header_2_0(buf, header)
    return buf.getvalue() + data


def _zip(path, members):
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_load_npz_round_trips(tmp_path):
    arrays = {"f": np.arange(6.0).reshape(2, 3), "b": np.array([True, False]),
              "i": np.arange(4, dtype=np.int32), "z": np.array(2.5), "e": np.zeros((0, 3)),
              "F": np.asfortranarray(np.arange(6.0).reshape(2, 3))}
    for save in (np.savez, np.savez_compressed):
        save(tmp_path / "a.npz", **arrays)
        got = load_npz(tmp_path / "a.npz", "x")
        assert set(got) == set(arrays)
        for k, v in arrays.items():
            assert got[k].dtype == v.dtype and np.array_equal(got[k], v)


def test_load_npz_version_2_header(tmp_path):
    data = np.arange(3.0).tobytes()
    _zip(tmp_path / "v2.npz", {"a.npy": _npy((3,), data=data, version=(2, 0))})
    assert np.array_equal(load_npz(tmp_path / "v2.npz", "x")["a"], np.arange(3.0))


@pytest.mark.parametrize("members,pattern", [
    ({"K.npy": _npy((100000, 100000), data=b"\0" * 16)},
     r"x: .* member 'K' claims shape \(100000, 100000\) of float64 \(74.5 GiB\) but holds "
     r"16 bytes of data"),
    ({"K.npy": _npy((3,), data=b"\0" * 32)}, r"claims shape \(3,\) of float64 \(24 bytes\) "
                                             r"but holds 32 bytes"),
    ({"K.npy": _npy((3,), "|O", b"\0" * 24)}, r"member 'K' has dtype object, expected a bool"),
    ({"K.npy": _npy((3,), "<U1", b"\0" * 12)}, r"member 'K' has dtype <U1, expected a bool"),
    ({"K.npy": _npy((3,), "<c16", b"\0" * 48)}, r"member 'K' has dtype complex128"),
    ({"K.npy": _npy((3,), "<M8[s]", b"\0" * 24)}, r"member 'K' has dtype datetime64"),
    ({"K.npy": b"\x93NUMPY\x01\x00\x10\x00{'descr': 'xx'}"},
     r"member 'K' has no valid \.npy header"),
    ({"K.npy": b"not an npy file at all"}, r"member 'K' has no valid \.npy header"),
    ({"K.npy": b""}, r"member 'K' has no valid \.npy header \(EOF"),
    ({"K.txt": b"hello"}, r"member 'K.txt' is not a \.npy array"),
])
def test_load_npz_refuses(tmp_path, members, pattern):
    _zip(tmp_path / "bad.npz", members)
    with pytest.raises(InputError, match=pattern):
        load_npz(tmp_path / "bad.npz", "x")


def test_load_npz_cap(tmp_path):
    np.savez(tmp_path / "a.npz", a=np.ones(100), b=np.ones(100))
    assert set(load_npz(tmp_path / "a.npz", "x", max_bytes=1600)) == {"a", "b"}
    with pytest.raises(InputError, match=r"holds more than 1000 bytes of arrays \(member 'b'"):
        load_npz(tmp_path / "a.npz", "x", max_bytes=1000)


def test_load_npz_corrupt_compressed_data(tmp_path):
    np.savez_compressed(tmp_path / "c.npz", a=np.random.default_rng(0).random(5000))
    data = bytearray((tmp_path / "c.npz").read_bytes())
    mid = len(data) // 2
    data[mid:mid + 64] = bytes(64)
    (tmp_path / "c.npz").write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"x: .*c\.npz member 'a' (is truncated or corrupt|"
                                         r"cannot be read)"):
        load_npz(tmp_path / "c.npz", "x")


def test_load_npz_missing_empty_truncated(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^x: no such file"):
        load_npz(tmp_path / "none.npz", "x")
    (tmp_path / "e.npz").write_bytes(b"")
    with pytest.raises(InputError, match=r"^x: .*e\.npz is empty \(0 bytes\), expected a "
                                         r"\.npz archive$"):
        load_npz(tmp_path / "e.npz", "x")
    np.savez(tmp_path / "a.npz", a=np.ones(100))
    (tmp_path / "t.npz").write_bytes((tmp_path / "a.npz").read_bytes()[:-30])
    with pytest.raises(InputError, match=r"t\.npz is not a \.npz archive \(not a zip file, or "
                                         r"truncated"):
        load_npz(tmp_path / "t.npz", "x")
