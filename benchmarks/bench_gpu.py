"""The geometry on a GPU against the same code on numpy, measured in one process.

The analyses accept torch tensors and compute on their device (``nnsrm_utils._backend``): one
algorithm, three ways to run it.  Each measure runs on float32 activations, as networks record
them, as numpy arrays (the baseline), as CPU tensors and, where CUDA is available, as CUDA
tensors; every run's result is compared with numpy's.  Sizes are the authors': SRM on 10
networks x 1,000 units x 8,000 examples, k = 1,000, 10 iterations; CCA, SVCCA, PWCCA and CKA
on two layers of 512 units x 10,000 examples.  Without a GPU it prints the CPU-torch vs numpy
ratio and says that no GPU was found.

    python benchmarks/bench_gpu.py                       # the authors' sizes
    python benchmarks/bench_gpu.py --units 200 --examples 1600 --features 200 --cca_units 128 --cca_examples 2000
    python benchmarks/bench_gpu.py --rbf_examples 0      # skip RBF CKA (two n x n kernels: 1.6 GB at 10,000)
    python benchmarks/bench_gpu.py --cuda 1              # require the GPU (an error without CUDA); --cuda 0 skips it
"""
import warnings

import numpy as np
from timing import arguments, best_of

from nnsrm_utils._validate import check_device
from nnsrm_utils.cca import cca, cka, pwcca, svcca
from nnsrm_utils.srm import SRM, DetSRM

try:
    import torch
except ImportError:  # the numpy path needs no torch; this benchmark does
    raise SystemExit("bench_gpu.py compares numpy with torch: install torch") from None


def srm_layer(n_networks, n_units, n_examples, seed=0):
    """Networks sharing a 50-dimensional signal through random orthonormal maps, plus noise (float32)."""
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((50, n_examples))
    return [(np.linalg.qr(rng.standard_normal((n_units, 50)))[0] @ s * 5
             + rng.standard_normal((n_units, n_examples))).astype(np.float32) for _ in range(n_networks)]


def cca_pair(n_units, n_examples, seed=0):
    """Two float32 layers sharing 20 of their dimensions."""
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal((20, n_examples))
    return [(rng.standard_normal((n_units, 20)) @ shared + 2 * rng.standard_normal((n_units, n_examples)))
            .astype(np.float32) for _ in range(2)]


def timed(fn, device, repeats):
    """``best_of`` with the device's queue drained, after one untimed call on CUDA (kernel loading)."""
    def run():
        out = fn()
        if device == "cuda":
            torch.cuda.synchronize()
        return out
    if device == "cuda":
        run()
    return best_of(run, repeats)


def summary(out):
    """What is compared across runs: the objective, a number, or an array, as float64 numpy."""
    if isinstance(out, (DetSRM, SRM)):
        out = out.objective_[-1] if isinstance(out, DetSRM) else out.loglik_[-1]
    return np.asarray(out.cpu() if isinstance(out, torch.Tensor) else out, dtype=np.float64)


def compare(name, fn, arrays, devices, repeats):
    """Time ``fn`` on numpy arrays and on tensors on each device; print times, ratios and differences."""
    want, t_numpy = best_of(lambda: fn(arrays), repeats)
    cells = [f"numpy {t_numpy:7.2f} s"]
    for device in devices:
        tensors = [torch.as_tensor(a, device=device) for a in arrays]
        got, seconds = timed(lambda: fn(tensors), device, repeats)
        diff = np.max(np.abs(summary(got) - summary(want)) / np.maximum(np.abs(summary(want)), 1e-12))
        cells.append(f"torch {device} {seconds:7.2f} s ({t_numpy / seconds:5.1f}x, rel. diff {diff:.0e})")
        del tensors, got
    print(f"{name:>16}: " + " | ".join(cells), flush=True)


def main():
    args = arguments(__doc__, networks=10, units=1000, examples=8000, features=1000, iterations=10,
                     cca_units=512, cca_examples=10000, rbf_examples=10000, repeats=1, cuda=-1)
    devices = ["cpu"]
    if args.cuda == 1:
        check_device("cuda")
    if args.cuda and torch.cuda.is_available():
        devices.append("cuda")
        print(f"GPU: {torch.cuda.get_device_name()}; torch {torch.__version__}, CUDA {torch.version.cuda}")
    else:
        print(f"no GPU found (torch.cuda.is_available() is False): CPU-torch vs numpy only; torch {torch.__version__}, "
              f"{torch.get_num_threads()} threads")
    warnings.simplefilter("ignore", RuntimeWarning)  # degenerate-regime warnings at small --sizes

    k, n_iter = args.features, args.iterations
    print(f"SRM: {args.networks} networks x {args.units} units x {args.examples} examples (float32), k = {k}, "
          f"{n_iter} iterations; the difference is the final objective's (DetSRM) or log-likelihood's (SRM)")
    xs = srm_layer(args.networks, args.units, args.examples)
    for estimator in (DetSRM, SRM):
        compare(estimator.__name__, lambda a: estimator(n_features=k, n_iter=n_iter).fit(a), xs, devices, args.repeats)
    del xs

    print(f"CCA and CKA: 2 layers x {args.cca_units} units x {args.cca_examples} examples (float32)")
    pair = cca_pair(args.cca_units, args.cca_examples)
    measures = {"cca": lambda p: cca(*p), "svcca": lambda p: svcca(*p), "pwcca": lambda p: pwcca(*p),
                "linear cka": lambda p: cka(*p), "debiased cka": lambda p: cka(*p, debiased=True)}
    for name, fn in measures.items():
        compare(name, fn, pair, devices, args.repeats)
    if args.rbf_examples:
        n = min(args.rbf_examples, args.cca_examples)
        compare(f"rbf cka ({n})", lambda p: cka(p[0][:, :n], p[1][:, :n], "rbf"), pair, devices, args.repeats)


if __name__ == "__main__":
    main()
