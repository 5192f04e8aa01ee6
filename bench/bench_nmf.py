"""Benchmark of the NMF engine against scikit-learn on 20 Newsgroups (train: 11,314 x 39,115).

    .venv/bin/python bench/bench_nmf.py                 # everything, medians of 3 runs
    .venv/bin/python bench/bench_nmf.py --only frobenius --ks 20 --repeats 1

What is timed (wall clock, median of --repeats runs, both libraries in the same process, one
after the other, on the same matrix; scikit-learn gets the float64 matrix TfidfVectorizer
returns, topicnmf its default float32):

1. Frobenius, k = 20, 50, 100. scikit-learn: ``NMF(k, init='nndsvda', solver='cd', tol=0,
   max_iter=200, random_state=0)``, i.e. exactly 200 iterations; its ||V - WH||_F is the
   target. topicnmf: a first, untimed run finds the number of iterations N after which its
   objective is within --band (relative, default 1e-6) of the target; the timed runs are
   ``fit_nmf(V, NMFConfig(k, tol=0, max_iter=N))``, initialisation and the final W included,
   and the W, H they return are checked against the target.
2. KL, k = 20. scikit-learn: ``NMF(20, solver='mu', beta_loss='kullback-leibler',
   init='nndsvda', random_state=0)`` with its defaults (tol=1e-4, max_iter=200), which stops by
   itself; its sqrt(2 * KL) is the target. topicnmf: solver 'cd' (numba) the same way as in 1,
   and solver 'mu' with numba hidden (pure numpy) for the gain numba brings; plus numba's cold
   (compile) and warm (on-disk cache) start in fresh processes.
3. Transform of the 7,532 test documents with the H of a default scikit-learn fit (k = 20):
   ``NMF.transform`` against ``topicnmf.nmf.transform``; the agreement of the two W is shown.

Results are printed as a table and saved to bench/results/bench_nmf.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import RESULTS_DIR, load_20ng, median_time  # noqa: E402
from sklearn.decomposition import NMF  # noqa: E402

import topicnmf.nmf._kernels as kernels  # noqa: E402
import topicnmf.nmf._transform as nmf_transform  # noqa: E402
from topicnmf.errors import ConvergenceWarning  # noqa: E402
from topicnmf.nmf import NMFConfig, fit_nmf, reconstruction_error, transform  # noqa: E402
from topicnmf.nmf._validation import check_threads  # noqa: E402


def sklearn_fit(V, k: int, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the iteration-limit warning is expected with tol=0
        model = NMF(n_components=k, init="nndsvda", random_state=0, **kwargs)
        W = model.fit_transform(V)
    return model, W


class _Reached(Exception):
    """Raised by the callback to end the untimed search run early."""


def iterations_to_reach(V, config: NMFConfig, target: float, band: float) -> int | None:
    """First iteration whose objective is within ``band`` of ``target`` (untimed run)."""
    hits: list[int] = []

    def callback(iteration: int, value: float) -> None:
        if np.sqrt(2 * value) <= target * (1 + band):
            hits.append(iteration)
            raise _Reached

    try:
        fit_nmf(V, config, callback=callback)
    except _Reached:
        pass
    return hits[0] if hits else None


def time_to_target(
    V,
    k: int,
    target: float,
    *,
    loss: str,
    solver: str,
    band: float,
    repeats: int,
    max_iter: int = 200,
) -> dict:
    base = NMFConfig(k, loss=loss, solver=solver, tol=0, max_iter=max_iter)
    n = iterations_to_reach(V, base, target, band)
    if n is None:
        result = fit_nmf(V, base)
        err = reconstruction_error(V, result.W, result.H, loss)
        return {"reached": False, "best": err, "iterations": max_iter}
    config = NMFConfig(k, loss=loss, solver=solver, tol=0, max_iter=n)
    seconds, result = median_time(lambda: fit_nmf(V, config), repeats)
    err = reconstruction_error(V, result.W, result.H, loss)
    return {
        "reached": bool(err <= target * (1 + band)),
        "iterations": n,
        "seconds": seconds,
        "objective": err,
    }


def numba_start_times() -> dict:
    """Cold (compiling) and warm (cached) start of a tiny KL fit, each in a fresh process."""
    code = (
        "import time; t=time.perf_counter();"
        "import scipy.sparse as sp; from topicnmf.nmf import NMFConfig, fit_nmf;"
        "V=sp.random(50,40,density=0.3,random_state=0,format='csr');"
        "t1=time.perf_counter();"
        "fit_nmf(V,NMFConfig(3,loss='kl',solver='cd',max_iter=3));"
        "print(time.perf_counter()-t1)"
    )
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
        )
        for name in ("cold", "warm"):
            run = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            out[name] = float(run.stdout.strip())
    return out


def row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        c.ljust(w) if i == 0 else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def main() -> None:
    # the timed runs stop at a fixed iteration count on purpose (tol=0)
    warnings.simplefilter("ignore", ConvergenceWarning)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case (median)")
    parser.add_argument(
        "--sklearn-repeats",
        type=int,
        default=None,
        help="timed scikit-learn runs (default: --repeats)",
    )
    parser.add_argument("--ks", default="20,50,100", help="k values of the Frobenius case")
    parser.add_argument(
        "--band",
        type=float,
        default=1e-6,
        help="relative distance to scikit-learn's objective that counts as reached",
    )
    parser.add_argument(
        "--only",
        choices=["frobenius", "kl", "transform"],
        action="append",
        help="run only these parts (repeatable)",
    )
    args = parser.parse_args()
    parts = set(args.only or ["frobenius", "kl", "transform"])
    sk_repeats = args.sklearn_repeats or args.repeats

    V, V_test = load_20ng()
    V32 = V.astype(np.float32)
    info = {
        "matrix": f"{V.shape[0]} x {V.shape[1]}, {V.nnz} non-zeros",
        "threads": check_threads(None),
        "repeats": args.repeats,
        "sklearn_repeats": sk_repeats,
        "band": args.band,
    }
    print(
        f"20NG train {info['matrix']}; {info['threads']} threads; medians of {args.repeats} "
        f"(scikit-learn {sk_repeats}); target reached = within {args.band:g} of its objective"
    )
    results: dict = {"info": info}
    lines: list[list[str]] = []

    if "frobenius" in parts:
        for k in [int(x) for x in args.ks.split(",")]:
            sk_time, (model, _) = median_time(
                lambda k=k: sklearn_fit(V, k, solver="cd", tol=0, max_iter=200), sk_repeats
            )
            target = float(model.reconstruction_err_)
            ours = time_to_target(
                V32, k, target, loss="frobenius", solver="cd", band=args.band, repeats=args.repeats
            )
            results[f"frobenius_k{k}"] = {"sklearn_seconds": sk_time, "target": target, **ours}
            lines.append(_line(f"Frobenius cd, k={k}", sk_time, "200 it", target, ours))

    if "kl" in parts:
        sk_time, (model, _) = median_time(
            lambda: sklearn_fit(V, 20, solver="mu", beta_loss="kullback-leibler"), sk_repeats
        )
        target = float(model.reconstruction_err_)
        sk_iter = f"{model.n_iter_} it"
        entry = {
            "sklearn_seconds": sk_time,
            "sklearn_iterations": int(model.n_iter_),
            "target": target,
        }
        if kernels.have_numba():
            ours = time_to_target(
                V32, 20, target, loss="kl", solver="cd", band=0.0, repeats=args.repeats
            )
            entry["cd_numba"] = ours
            lines.append(_line("KL cd (numba), k=20", sk_time, sk_iter, target, ours))
            entry["numba_start"] = numba_start_times()
        have = nmf_transform.have_numba
        nmf_transform.have_numba = lambda: False  # the KL transform falls back to numpy
        try:
            ours = time_to_target(
                V32,
                20,
                target,
                loss="kl",
                solver="mu",
                band=0.0,
                repeats=args.repeats,
                max_iter=400,
            )
        finally:
            nmf_transform.have_numba = have
        entry["mu_numpy"] = ours
        lines.append(_line("KL mu (numpy only), k=20", sk_time, sk_iter, target, ours))
        results["kl_k20"] = entry

    if "transform" in parts:
        model, _ = sklearn_fit(V, 20)  # scikit-learn's defaults: tol=1e-4, max_iter=200
        H = model.components_
        sk_time, W_ref = median_time(lambda: model.transform(V_test), max(sk_repeats, 5))
        config = NMFConfig(20)
        H32 = H.astype(np.float32)
        ours_time, W = median_time(lambda: transform(V_test, H32, config), max(args.repeats, 5))
        diff = float(np.abs(W - W_ref).max() / np.abs(W_ref).max())
        results["transform_k20"] = {
            "sklearn_seconds": sk_time,
            "seconds": ours_time,
            "max_rel_difference": diff,
        }
        lines.append(
            [
                "Transform 7,532 test docs, k=20",
                f"{sk_time:.3f}",
                "",
                "",
                f"{ours_time:.3f}",
                "",
                f"{sk_time / ours_time:.1f}x",
                f"max |dW| / max W = {diff:.1e}",
            ]
        )

    header = ["case", "sklearn s", "sk iters", "target", "topicnmf s", "iters", "ratio", "note"]
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
    print()
    print(row(header, widths))
    for line in lines:
        print(row(line, widths))
    if "kl_k20" in results and "numba_start" in results["kl_k20"]:
        start = results["kl_k20"]["numba_start"]
        print(
            f"\nnumba start of a KL fit in a fresh process: cold (compiling) {start['cold']:.1f} s,"
            f" warm (on-disk cache) {start['warm']:.2f} s"
        )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "bench_nmf.json").write_text(json.dumps(results, indent=2) + "\n")


def _line(name: str, sk_time: float, sk_iter: str, target: float, ours: dict) -> list[str]:
    if not ours.get("seconds"):
        return [
            name,
            f"{sk_time:.2f}",
            sk_iter,
            f"{target:.4f}",
            "-",
            "-",
            "-",
            f"not reached; best {ours['best']:.4f}",
        ]
    note = f"reached {ours['objective']:.4f}" if ours["reached"] else "NOT reached"
    return [
        name,
        f"{sk_time:.2f}",
        sk_iter,
        f"{target:.4f}",
        f"{ours['seconds']:.2f}",
        str(ours["iterations"]),
        f"{sk_time / ours['seconds']:.1f}x",
        note,
    ]


if __name__ == "__main__":
    main()
