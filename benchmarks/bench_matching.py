"""Neuron-group matching against the straightforward algorithm of Wang et al. (2018), in one process.

Work: an epsilon sweep (0.15, 0.2, 0.25, 0.3, 0.5) of the maximum match plus the decomposition
of the maximum match at epsilon 0.25 into simple matches, for two layers of 512 neurons over
10,000 examples, 20 of which (10 per layer) mix a shared 5-dimensional signal.

Baseline, reimplemented here as published: the sine of each neuron to the other group's span
by a least-squares solve over the examples on every pass, and, to find a simple match, a full
maximum-match computation from all neurons after every trial deletion.  ``nnsrm_utils``
works from the Gram matrix of all neurons, computed once, and shrinks matches in place.  Both
must find identical matches.

    python benchmarks/bench_matching.py                   # 512 + 512 neurons x 10,000 examples
    python benchmarks/bench_matching.py --neurons 128 --examples 2000
"""

import numpy as np
from timing import arguments, best_of

from nnsrm_utils import matching

EPS = (0.15, 0.2, 0.25, 0.3, 0.5)


def baseline_sines(rows, span):
    """Sine of each row's angle to the span of ``span``'s rows, by least squares."""
    if len(span) == 0:
        return np.ones(len(rows))
    coef = np.linalg.lstsq(span.T, rows.T, rcond=None)[0]
    residual = rows.T - span.T @ coef
    return np.linalg.norm(residual, axis=0) / np.linalg.norm(rows, axis=1)


def baseline_max_match(x, y, eps, ix=None, iy=None):
    ix = np.arange(len(x)) if ix is None else ix
    iy = np.arange(len(y)) if iy is None else iy
    while True:
        kx = ix[baseline_sines(x[ix], y[iy]) <= eps]
        ky = iy[baseline_sines(y[iy], x[kx]) <= eps]
        if len(kx) == len(ix) and len(ky) == len(iy):
            return ix, iy
        ix, iy = kx, ky


def baseline_simple_matches(x, y, eps):
    """For each uncovered neuron v: try deleting every other matched neuron; after each deletion
    recompute the maximum match from all neurons not deleted so far; keep the deletion if v
    stays matched."""
    ix, iy = baseline_max_match(x, y, eps)
    found, covered = [], set()
    for v in [("x", i) for i in ix] + [("y", i) for i in iy]:
        if v in covered:
            continue
        gone = {"x": set(), "y": set()}
        sx, sy = ix, iy
        for u in [("x", i) for i in ix] + [("y", i) for i in iy]:
            if u == v or u[1] not in (sx if u[0] == "x" else sy):
                continue
            trial = {"x": set(gone["x"]), "y": set(gone["y"])}
            trial[u[0]].add(u[1])
            keep_x = np.array([i for i in range(len(x)) if i not in trial["x"]])
            keep_y = np.array([i for i in range(len(y)) if i not in trial["y"]])
            tx, ty = baseline_max_match(x[keep_x], y[keep_y], eps)
            tx, ty = keep_x[tx], keep_y[ty]
            if v[1] in (tx if v[0] == "x" else ty):
                gone, sx, sy = trial, tx, ty
        covered.update([("x", i) for i in sx] + [("y", i) for i in sy])
        found.append((sx, sy))
    return found


def make_layers(neurons, examples, shared=10, k=5, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((k, examples))

    def layer():
        planted = rng.standard_normal((shared, k)) @ latent + 0.05 * rng.standard_normal((shared, examples))
        return np.concatenate([planted, np.maximum(rng.standard_normal((neurons - shared, examples)), 0)])

    return layer(), layer()


def main():
    args = arguments(__doc__, neurons=512, examples=10000)
    x, y = make_layers(args.neurons, args.examples)
    print(f"{args.neurons} + {args.neurons} neurons x {args.examples} examples; sweep {EPS}, simple matches at 0.25")

    def ours():
        return ([matching.max_match(x, y, e) for e in EPS], matching.simple_matches(x, y, 0.25))

    def base():
        return ([baseline_max_match(x, y, e) for e in EPS], baseline_simple_matches(x, y, 0.25))

    (sweep_o, simple_o), t_ours = best_of(ours)
    (sweep_b, simple_b), t_base = best_of(base)
    same = all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(sweep_o, sweep_b))
    same &= len(simple_o) == len(simple_b) and all(
        np.array_equal(np.sort(a[0]), np.sort(b[0])) and np.array_equal(np.sort(a[1]), np.sort(b[1]))
        for a, b in zip(simple_o, simple_b))
    print("match sizes per epsilon:", [len(a) + len(b) for a, b in sweep_o],
          "; simple matches:", [(len(a), len(b)) for a, b in simple_o])
    print(f"baseline {t_base:.2f} s   nnsrm_utils {t_ours:.2f} s   speed-up {t_base / t_ours:.1f}x   "
          f"identical matches: {same}")
    if not same:
        raise SystemExit("the matches differ")


if __name__ == "__main__":
    main()
