"""Reproduce and audit the paper's experiment (section 3) from the authors' files.

``reproduce_paper(artifacts, out_dir, seeds)`` writes ``reproduce.json``,
``reproduce.md`` and ``figures/*.png``:

* **Figure 3 side by side**: per dataset and n, the maximum relative weight
  error ``max_arrays max|w - w'| / max|w|`` of the authors' stored RSS results,
  and of slth-check's exact-optimal RSS on fresh ``Unif([-1, 1])^n`` samples
  for the same 2572 targets over ``seeds`` draws (median and range).  The
  solves are ``slth-check approximate``'s (:func:`paper_draw`): draw ``j`` equals
  ``slth-check approximate FILE --include 'conv*' --scale none --seed SEED+j``.
* **Validation of the stored results**: the authors' samples were not saved,
  but the *distribution* of their errors can be tested against the errors that
  exact subset sums of n ``Unif([-1, 1])`` numbers achieve for the same
  targets (rounded to float32 like theirs): a two-sample Kolmogorov-Smirnov
  test, and the fraction of errors that are exactly zero in float32 against
  ours (Fisher's exact test).  Verdict ``consistent`` when both p-values are
  at least 0.01, ``inconsistent`` when one is below 0.001, else
  ``undetermined``.
* **The real construction**: LeNet5's convolutional part (two 5x5 conv layers
  with biases, same padding, ReLU, 2x2 max pooling) built as the pruned random
  network of Lemma 2 / Theorem 1 for ``n'`` samples per output channel; its
  size, the output error as in Figure 4 on random and structured inputs, and
  the certified worst case over ``[0, 1]^{28 x 28}``: the bracket of
  :func:`slth_check.certify.worst_case` (a lower bound replayed exactly from a
  per-output local search of fixed work ``search_kicks``; the smallest sound
  upper bound, the linear relaxation of ``f - g`` or the interval, proof and
  entrywise bounds).
* **Time**: the whole run, and the 2572 x n = 30 solve next to the paper's
  "around 1 hour on 32 cores".
"""

from __future__ import annotations

import json
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

from slth_check.experiment.approximate import solve_tensors
from slth_check.experiment.lenet import construction_rows, lenet_conv, structured_inputs
from slth_check.experiment.sampling import samples, tensor_key
from slth_check.experiment.stored import compare_stored
from slth_check.experiment.summary import relative_max_error
from slth_check.fileio.bson import CONV_NAMES, load_cnnslth
from slth_check.fileio.files import atomic_write
from slth_check.fileio.weights import read_weights

DATASETS = ("MNIST", "FashionMNIST")
NS = (5, 10, 15, 20, 25, 30)
PAPER_TIME = "around 1 hour on 32 cores (Xeon Gold 6240), commercial MIP solver"


def rel_weight_error(w: dict[str, np.ndarray], w2: dict[str, np.ndarray]) -> float:
    """Figure 3's metric: max over arrays of max|w - w'| / max|w|."""
    return max(float(np.abs(w[k] - w2[k]).max() / np.abs(w[k]).max()) for k in CONV_NAMES)


def flat_conv(params: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([params[k].ravel() for k in CONV_NAMES])


def unflatten(flat: np.ndarray, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out, p = {}, 0
    for k in CONV_NAMES:
        out[k] = flat[p:p + like[k].size].reshape(like[k].shape)
        p += like[k].size
    return out


#: Weights per task of the exact solves (2572 conv weights: about 20 tasks).
CHUNK = 128


def paper_draw(arrays: list[tuple[str, np.ndarray]], n: int, seed: int, *,
               executor: Executor | None = None, workers: int | None = None
               ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """One draw of the paper's experiment: per tensor the exact errors, masks, status codes
    and the float64 subset sums ``w'``, by ``slth-check approximate``'s code path
    (:func:`slth_check.experiment.approximate.solve_tensors`: stream (``seed``, tensor, index),
    targets ``w`` unscaled).  ``arrays`` in approximate's order (names sorted), so the
    numbers are those of ``slth-check approximate FILE --include 'conv*' --scale none
    --seed SEED --n N`` on the authors' file."""
    res = solve_tensors([a for _, a in arrays], n, seed, executor=executor, workers=workers,
                        chunk_size=CHUNK)
    out = []
    for t, ((e, m, c), (_, a)) in enumerate(zip(res, arrays)):
        V = samples(tensor_key(seed, t), 0, a.size, n)
        out.append((e, m, c, np.where(m, V, 0.0).sum(axis=1)))  # float64 sum of the subset
    return out


def _our_draws(sel: list[tuple[str, np.ndarray]], n: int, seed: int, seeds: int,
               timing: dict[str, Any], executor: Executor | None, workers: int | None
               ) -> tuple[list[float], np.ndarray]:
    """``seeds`` exact-optimal draws at ``n`` (:func:`paper_draw`): Figure 3's relative error
    of each, and every error with w' rounded to float32 (the authors stored float32)."""
    ours_rel, ours_err32 = [], []
    for j in range(seeds):
        t0 = time.perf_counter()
        draw = paper_draw(sel, n, seed + j, executor=executor, workers=workers)
        dt = time.perf_counter() - t0
        if n == 30 and "rss_2572_n30_seconds" not in timing:
            timing["rss_2572_n30_seconds"] = dt
            timing["rss_2572_n30_not_optimal"] = int(sum(np.sum(c != 0) for _, _, c, _
                                                         in draw))
        ours_rel.append(max(relative_max_error(e, 1.0, a)
                            for (e, _, _, _), (_, a) in zip(draw, sel)))
        ours_err32.append(np.concatenate([  # |w - w'| with w' rounded to float32
            np.abs(a.ravel() - ach.astype(np.float32).astype(float))
            for (_, _, _, ach), (_, a) in zip(draw, sel)]))
    return ours_rel, np.concatenate(ours_err32)


def reproduce_paper(artifacts: str | Path, out_dir: str | Path, *, seeds: int = 3,
                    ns: tuple[int, ...] = NS, construction_ns: tuple[int, ...] = NS,
                    datasets: tuple[str, ...] = DATASETS, seed: int = 0,
                    figures: bool = True, search_kicks: int = 5,
                    progress: bool | None = None, executor: Executor | None = None,
                    workers: int | None = None) -> dict[str, Any]:
    """Run the reproduction and write its files; returns the JSON dict.

    The exact RSS solves are ``slth-check approximate``'s (:func:`paper_draw`):
    draw ``j`` of every (dataset, n) is the sample stream of seed ``seed + j``.
    They and the construction's subset sums run on ``executor`` (any
    ``concurrent.futures.Executor``, e.g. from
    :func:`slth_check.rss.executors.open_executor`), else ``workers``
    processes of the shared pool; the numbers do not depend on either.
    """
    t_start = time.perf_counter()
    artifacts = Path(artifacts)
    if not artifacts.is_dir():
        raise FileNotFoundError(f"artifacts: no such folder {artifacts}")
    if seeds < 1:
        raise ValueError(f"seeds: expected a positive integer, got {seeds}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    fig3, validation = [], []
    ecdf: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
    timing: dict[str, Any] = {}
    models = {}
    for ds in datasets:
        base = artifacts / f"lenet5-{ds}.bson"
        models[ds] = load_cnnslth(base)
        w = models[ds]
        targets = flat_conv(w)
        sel = read_weights(base, include=CONV_NAMES).arrays  # approximate's tensors, in order
        for n in ns:
            stored = load_cnnslth(artifacts / f"lenet5-{ds}-RSS-n{n}-hInf.bson")
            auth_rel = rel_weight_error(w, stored)
            auth_err = np.abs(targets - flat_conv(stored))
            ours_rel, e_ours = _our_draws(sel, n, seed, seeds, timing, executor, workers)
            fig3.append({"dataset": ds, "n": n, "authors": auth_rel,
                         "slth_check_median": float(np.median(ours_rel)),
                         "slth_check_min": float(np.min(ours_rel)),
                         "slth_check_max": float(np.max(ours_rel)), "seeds": seeds})
            ecdf[(ds, n)] = (auth_err, e_ours)
            validation.append(compare_stored(ds, n, auth_err, e_ours))
    # the real construction (first dataset's model)
    ds = datasets[0]
    target = lenet_conv(models[ds])
    inputs = structured_inputs(rng, 16)
    construction = construction_rows(target, construction_ns, rng, inputs, executor=executor,
                                     search_kicks=search_kicks, progress=progress)
    timing["total_seconds"] = time.perf_counter() - t_start
    timing["paper"] = PAPER_TIME
    result = {"schema_version": 1, "artifacts": str(artifacts), "seeds": seeds, "seed": seed,
              "figure3": fig3, "stored_rss_validation": validation,
              "construction": construction, "construction_dataset": ds, "timing": timing,
              "test_accuracy": {d: float(models[d].get("test_acc", np.nan)) for d in datasets}}
    _write(result, out_dir, ecdf if figures else None)
    return result


def _write(result: dict[str, Any], out_dir: Path,
           ecdf: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] | None) -> None:
    """reproduce.md, reproduce.json and (given the errors' ECDF data) the figures."""
    if ecdf is not None:
        _figures(result, out_dir / "figures", ecdf)
    atomic_write(out_dir / "reproduce.md", to_markdown(result))
    atomic_write(out_dir / "reproduce.json", json.dumps(result, indent=2))


def _figures(result: dict[str, Any], fig_dir: Path,
             ecdf: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] | None = None) -> None:
    from slth_check.figures.paper import reproduce_figures  # relative and absolute on separate axes

    reproduce_figures(result, fig_dir, ecdf)


def to_markdown(r: dict[str, Any]) -> str:
    L = ["# Reproduction of the paper's experiment (section 3)", "",
         f"Artifacts: `{r['artifacts']}`; {r['seeds']} seeds; total "
         f"{r['timing']['total_seconds']:.1f} s.", "",
         "## Figure 3, side by side", "",
         "| dataset | n | authors' files | exact optimum, median (min..max) |",
         "|---|---|---|---|"]
    L += [f"| {x['dataset']} | {x['n']} | {x['authors']:.3g} | {x['slth_check_median']:.3g} "
          f"({x['slth_check_min']:.3g}..{x['slth_check_max']:.3g}) |" for x in r["figure3"]]
    L += ["", "## Validation of the authors' stored RSS results", "",
          "| dataset | n | verdict | KS statistic | p-value | detail |",
          "|---|---|---|---|---|---|"]
    L += [f"| {v['dataset']} | {v['n']} | {v['verdict']} | {v['statistic']:.3g} | "
          f"{v['p_value']:.2g} | {v['detail']} |" for v in r["stored_rss_validation"]]
    L += ["", f"## The real construction ({r['construction_dataset']} LeNet5, conv part)", "",
          "| n' | random params | ratio to target | Figure-4 error (uniform / binary / "
          "structured) | certified sup error (abs): lower .. upper |", "|---|---|---|---|---|"]
    for c in r["construction"]:
        e = c["figure4_error"]
        L.append(f"| {c['n_per_channel']} | {c['random_params']} | {c['size_ratio']:.1f} | "
                 f"{e['uniform']:.3g} / {e['binary']:.3g} / {e['structured']:.3g} | "
                 f"{c['certified_lower']:.3g} .. {c['certified_upper']:.3g} |")
    t = r["timing"]
    L += ["", "## Time", "",
          f"- whole reproduction: {t['total_seconds']:.1f} s",
          f"- 2572 targets at n = 30, exact optimum: "
          f"{t.get('rss_2572_n30_seconds', float('nan')):.2f} s "
          f"({t.get('rss_2572_n30_not_optimal', 'n/a')} not proven optimal); paper: "
          f"{t['paper']}", ""]
    return "\n".join(L)


