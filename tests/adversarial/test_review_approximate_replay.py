"""Adversarial review (advappx) of ``slth-check approximate``'s resume machinery and of
witness replay.  Each test is an input on which a resumed run once accepted edited
results into its report (the ``sha256`` seal of a checkpoint is no proof: anyone can
recompute it)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from slth_check.experiment.approximate import approximate
from slth_check.fileio.files import atomic_write, load_npz, sealed_npz_bytes

KW = dict(n=8, seed=0, scheduler="synchronous", chunk_size=5, figure=False, progress=False)


def _interrupted(tmp_path: Path) -> tuple[Path, Path, dict, dict[str, np.ndarray]]:
    """A finished run turned back into one killed before assembling tensor ``a``: its
    four chunks on disk (sealed), its tensor file and the reports gone."""
    rng = np.random.default_rng(0)
    weights = tmp_path / "w.npz"
    np.savez(weights, a=rng.normal(size=(4, 5)), b=rng.normal(size=7))
    ref = approximate(weights, tmp_path / "ref", **KW)
    out = tmp_path / "out"
    approximate(weights, out, **KW)
    z = load_npz(out / "tensors" / "0000-a.npz", "t", text_keys=("sha256",))
    for f in [*(out / "tensors").iterdir(), out / "approximate.json", out / "approximate.md"]:
        f.unlink()
    return weights, out, ref, z


def _chunk(z: dict[str, np.ndarray], c: int) -> dict[str, np.ndarray]:
    return {k: z[k][5 * c:5 * c + 5].copy() for k in ("errors", "masks", "status")}


def _write(out: Path, c: int, arrays: dict[str, np.ndarray]) -> None:
    atomic_write(out / "chunks" / f"0000-{c:07d}.npz", sealed_npz_bytes(arrays))


def _same_as_uninterrupted(weights: Path, out: Path, ref: dict) -> list[str]:
    got = approximate(weights, out, resume=True, **KW)
    for key in ("tensors", "overall"):
        if key in ref:
            assert got[key] == ref[key], f"edited checkpoints reached the report ({key})"
    assert (out / "approximate.json").read_text() == json.dumps(
        {k: v for k, v in ref.items() if k != "timing"}, indent=1) + "\n"
    return got["timing"]["checkpoints_recomputed"]


@pytest.mark.parametrize("edit", ["errors_zeroed", "mask_flipped", "chunks_swapped",
                                  "error_and_mask_of_another_chunk", "short_status",
                                  "bad_status_code", "mask_padding"])
def test_resealed_edited_chunk_is_recomputed_not_reported(tmp_path, edit):
    weights, out, ref, z = _interrupted(tmp_path)
    chunks = [_chunk(z, c) for c in range(4)]
    if edit == "errors_zeroed":  # a lower error with the seal recomputed
        chunks[0]["errors"][:] = 0.0
    elif edit == "mask_flipped":  # another subset, its error left
        chunks[1]["masks"][:, 0] ^= 0x80
    elif edit == "chunks_swapped":
        chunks[0], chunks[3] = chunks[3], chunks[0]
    elif edit == "error_and_mask_of_another_chunk":
        chunks[2] = {k: v.copy() for k, v in chunks[1].items()}
    elif edit == "short_status":  # a status dropped: the counts shift
        chunks[3]["status"] = chunks[3]["status"][:4]
    elif edit == "bad_status_code":
        chunks[3]["status"][0] = 250
    else:  # n = 8 has no padding: flip a bit of a weight's mask instead
        chunks[2]["masks"][0, 0] ^= 0x01
    for c, arrays in enumerate(chunks):
        _write(out, c, arrays)
    recomputed = _same_as_uninterrupted(weights, out, ref)
    assert recomputed, "an edited, resealed checkpoint was taken as intact"


def test_resealed_edited_tensor_file_is_recomputed(tmp_path):
    weights, out, ref, z = _interrupted(tmp_path)
    arrays = {k: v.copy() for k, v in z.items() if k != "sha256"}
    arrays["errors"] = arrays["errors"] / 2  # every error halved, the seal recomputed
    for c in range(4):
        (out / "chunks" / f"0000-{c:07d}.npz").unlink(missing_ok=True)
    atomic_write(out / "tensors" / "0000-a.npz", sealed_npz_bytes(arrays))
    assert _same_as_uninterrupted(weights, out, ref) == ["0000-a.npz"]


def test_untouched_chunks_are_kept(tmp_path):
    weights, out, ref, z = _interrupted(tmp_path)
    for c in range(4):
        _write(out, c, _chunk(z, c))
    assert _same_as_uninterrupted(weights, out, ref) == []


@pytest.mark.parametrize("name", ["tensors/0000-a.npz", "approximate.md", "figure3.png"])
def test_new_run_keeps_the_users_files(tmp_path, capsys, name):
    """A new run into a folder that holds a file of one of the run's names (no run.json)
    once removed it (``tensors/0000-a.npz``: taken for a damaged checkpoint) or wrote over
    it; it is refused, exit 2, the file untouched."""
    from slth_check.cli import main

    rng = np.random.default_rng(0)
    weights = tmp_path / "w.npz"
    np.savez(weights, a=rng.normal(size=(4, 5)))
    out = tmp_path / "out"
    (out / name).parent.mkdir(parents=True)
    (out / name).write_text("the user's\n")
    assert main(["approximate", str(weights), "--n", "6", "--out", str(out),
                 "--scheduler", "synchronous"]) == 2
    assert (out / name).read_text() == "the user's\n"
    assert "no run.json" in capsys.readouterr().err


def test_several_n_keep_the_users_figure3_table(tmp_path, capsys):
    from slth_check.cli import main

    weights = tmp_path / "w.npz"
    np.savez(weights, a=np.linspace(-1, 1, 6))
    out = tmp_path / "out"
    out.mkdir()
    (out / "figure3.md").write_text("the user's\n")
    assert main(["approximate", str(weights), "--n", "4,5", "--out", str(out),
                 "--scheduler", "synchronous", "--no-figure"]) == 2
    assert (out / "figure3.md").read_text() == "the user's\n"


@pytest.mark.parametrize("which", ["K", "X"])
def test_replay_of_a_huge_proposition1_witness_is_a_verdict(tmp_path, capsys, which):
    """K or X near the float64 limit: the exact bound exceeds float64 and its conversion
    once escaped as an internal error (OverflowError, exit 4); the exact comparison holds."""
    from slth_check.cli import main
    from slth_check.fileio.files import npz_bytes

    rng = np.random.default_rng(0)
    arrays = {"K": rng.uniform(-1, 1, (2, 2, 1, 1)), "X": rng.uniform(-1, 1, (3, 3, 1))}
    arrays[which] = arrays[which] * 1e308
    arrays["meta"] = np.array(json.dumps({"claim": "proposition1"}))
    path = tmp_path / "w.npz"
    path.write_bytes(npz_bytes(arrays))
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("holds: proposition1") and "internal error" not in out.err


@pytest.mark.parametrize("C", [float("inf"), float("nan")])
def test_replay_with_a_non_finite_constant_C_is_one_clear_error(tmp_path, capsys, C):
    """A network witness whose metadata says C = inf escaped as an internal error
    (OverflowError in math.ceil, exit 4); C = nan as a bare 'cannot convert' message."""
    from test_replay_hypotheses import _layer_witness

    from slth_check.cli import main

    path = Path(_layer_witness(tmp_path))
    z = dict(np.load(path))
    meta = {**json.loads(str(z.pop("meta"))), "C": C}
    np.savez(path, meta=np.array(json.dumps(meta)), **z)
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "C: expected a positive constant (finite)" in err


@pytest.mark.parametrize("stride", [1.5, True, "abc", None])
def test_replay_of_definition1_with_a_non_integer_stride_is_refused(tmp_path, capsys, stride):
    """A definition1 witness whose metadata says stride 1.5 (or true) was replayed at
    stride 1 (int() truncated it) and judged: a verdict on another instance than the
    witness's; "abc" or null gave a bare int() message.  Now one error naming it."""
    from slth_check.cli import main
    from slth_check.fileio.files import npz_bytes

    rng = np.random.default_rng(0)
    path = tmp_path / "w.npz"
    path.write_bytes(npz_bytes({
        "K": rng.uniform(-1, 1, (2, 2, 1, 1)), "X": rng.uniform(-1, 1, (5, 5, 1)),
        "meta": np.array(json.dumps({"claim": "definition1", "stride": stride}))}))
    assert main(["replay", str(path)]) == 2
    assert "metadata entry 'stride' must be a positive integer" in capsys.readouterr().err
