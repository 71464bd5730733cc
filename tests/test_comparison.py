"""Layer-by-layer comparisons agree with the measures of nnsrm_utils.cca and find planted layers."""
import numpy as np
import pytest

from nnsrm_utils import comparison
from nnsrm_utils.cca import cca, cka, pwcca, svcca


def test_pairwise_agrees_with_the_measures(rng):
    latent = rng.standard_normal((6, 400))
    xs = [np.maximum(rng.standard_normal((p, 6)) @ latent + rng.standard_normal((p, 400)), 0) for p in (12, 9, 15)]
    got = comparison.pairwise(xs)
    for k, (i, j) in enumerate([(0, 1), (0, 2), (1, 2)]):
        x, y = xs[i], xs[j]
        expected = {"mean CCA": np.mean(cca(x, y)), "SVCCA": svcca(x, y), "PWCCA": pwcca(x, y),
                    "linear CKA": cka(x, y), "RBF CKA": cka(x, y, "rbf")}
        for name, value in expected.items():
            assert got[name][k] == pytest.approx(value, abs=1e-9), name


def test_between_groups_pairs_every_network_of_one_with_every_network_of_the_other(rng):
    latent = rng.standard_normal((5, 300))
    xs = [rng.standard_normal((p, 5)) @ latent + rng.standard_normal((p, 300)) for p in (8, 10)]
    ys = [rng.standard_normal((p, 5)) @ latent + rng.standard_normal((p, 300)) for p in (7, 9, 11)]
    got = comparison.between(xs, ys, ["PWCCA", "linear CKA"])
    for k, (x, y) in enumerate((x, y) for x in xs for y in ys):
        assert got["PWCCA"][k] == pytest.approx(pwcca(x, y), abs=1e-9)  # weighted by the first group's layer
        assert got["linear CKA"][k] == pytest.approx(cka(x, y), abs=1e-9)
    assert len(got["PWCCA"]) == 6


def test_distances_are_one_minus_similarity_symmetrised(rng):
    latent = rng.standard_normal((5, 300))
    xs = [rng.standard_normal((p, 5)) @ latent + rng.standard_normal((p, 300)) for p in (8, 10, 12)]
    got = comparison.distances(xs, ["PWCCA", "linear CKA"])
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert pwcca(xs[i], xs[j]) != pytest.approx(pwcca(xs[j], xs[i]), abs=1e-3)  # asymmetric ...
        both = (pwcca(xs[i], xs[j]) + pwcca(xs[j], xs[i])) / 2                      # ... so averaged
        assert got["PWCCA"][i, j] == got["PWCCA"][j, i] == pytest.approx(1 - both, abs=1e-9)
        assert got["linear CKA"][i, j] == pytest.approx(1 - cka(xs[i], xs[j]), abs=1e-9)
    for d in got.values():
        assert d.shape == (3, 3) and np.all(np.diag(d) == 0) and np.all(d >= 0)


def test_every_network_against_every_one_is_prepared_once(rng, monkeypatch):
    calls = []
    real = comparison._whitener
    monkeypatch.setattr(comparison, "_whitener", lambda *args: calls.append(1) or real(*args))
    xs = [rng.standard_normal((p, 200)) for p in (4, 5, 6)]
    same = comparison.between(xs, xs, ["PWCCA"])["PWCCA"]
    assert len(calls) == 3
    np.testing.assert_allclose(same, comparison.between(xs, list(xs), ["PWCCA"])["PWCCA"], rtol=0, atol=1e-12)
    assert len(calls) == 9


def test_layer_similarities_compare_every_layer_with_every_layer(rng):
    net_a = [rng.standard_normal((p, 200)) for p in (6, 8, 5)]
    net_b = [rng.standard_normal((4, 5)) @ net_a[2], rng.standard_normal((7, 200))]
    m = comparison.layer_similarities(net_a, net_b, ["linear CKA", "PWCCA"])
    assert m["linear CKA"].shape == (3, 2)
    for i, x in enumerate(net_a):
        for j, y in enumerate(net_b):
            assert m["linear CKA"][i, j] == pytest.approx(cka(x, y), abs=1e-9)
            assert m["PWCCA"][i, j] == pytest.approx(pwcca(x, y), abs=1e-9)
    assert m["linear CKA"][:, 0].argmax() == 2  # net_b's first layer is a linear map of net_a's last


def test_rbf_cka_of_many_layers_is_each_pairs_in_bounded_memory(rng):
    """RBF CKA between many layers sums the kernels' inner products over bands of rows: the same
    values as cca.cka pair by pair, without keeping a kernel per layer (here 40 kernels of
    1,500 x 1,500 would take 720 MB)."""
    import tracemalloc

    latent = rng.standard_normal((4, 1500))
    nets = [[rng.standard_normal((6, 4)) @ latent + rng.standard_normal((6, 1500)) for _ in range(10)] for _ in range(4)]
    tracemalloc.start()
    found = comparison.layer_identification(nets, ["RBF CKA"])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200e6 and 0 <= found["RBF CKA"] <= 1
    m = comparison.layer_similarities(nets[0][:3], nets[1][:2], ["RBF CKA", "PWCCA"])["RBF CKA"]
    for i, x in enumerate(nets[0][:3]):
        for j, y in enumerate(nets[1][:2]):
            assert m[i, j] == pytest.approx(cka(x, y, "rbf"), abs=1e-9)


def test_layer_identification_keeps_few_networks_prepared(rng):
    """With room for one prepared network, the others are prepared again for each pair: the same
    answer in a fraction of the memory of keeping all eight (each holds about 9 MB prepared)."""
    import tracemalloc

    signals = [rng.standard_normal((5, 3000)) for _ in range(3)]
    nets = [[rng.standard_normal((40, 5)) @ s + rng.standard_normal((40, 3000)) for s in signals] for _ in range(8)]
    names = ["mean CCA", "SVCCA", "PWCCA", "linear CKA"]
    found, peaks = [], []
    for prepared_bytes in (2**30, 1):
        tracemalloc.start()
        found.append(comparison.layer_identification(nets, names, prepared_bytes))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert found[0] == found[1] == dict.fromkeys(names, 1.0)
    assert peaks[0] > 50e6 and peaks[1] < peaks[0] / 2


def test_a_measure_prepares_only_what_it_needs(rng, monkeypatch):
    """CKA needs no whitening, and a permutation null whitens its layers once, not per shuffle."""
    from nnsrm_utils import stats

    calls = []
    real = comparison._whitener
    monkeypatch.setattr(comparison, "_whitener", lambda *args: calls.append(1) or real(*args))
    x, y = rng.standard_normal((5, 200)), rng.standard_normal((6, 200))
    comparison.pairwise([x, y], ["linear CKA", "RBF CKA"])
    assert calls == []
    stats.calibrated("PWCCA", x, y, n_perm=10)
    assert len(calls) == 2


def test_shuffled_examples_destroy_similarity(rng):
    x = rng.standard_normal((5, 3000))
    xs = [x, 2 * x + 1]
    assert comparison.pairwise(xs, ["linear CKA"])["linear CKA"][0] == pytest.approx(1)
    assert comparison.pairwise(comparison.shuffled(xs), ["linear CKA"])["linear CKA"][0] < 0.05


def test_planted_layers_are_identified(rng):
    """Networks whose layers are noisy rotations of the same layer-specific signals."""
    signals = [rng.standard_normal((8, 600)) for _ in range(4)]

    def net():
        return [np.linalg.qr(rng.standard_normal((8, 8)))[0] @ s + 0.3 * rng.standard_normal((8, 600))
                for s in signals]

    result = comparison.layer_identification([net(), net(), net()])
    assert result == {"mean CCA": 1.0, "SVCCA": 1.0, "PWCCA": 1.0, "linear CKA": 1.0}


def test_bad_input(rng):
    with pytest.raises(ValueError, match="unknown measure"):
        comparison.pairwise([rng.standard_normal((3, 20))] * 2, ["CKA"])
    with pytest.raises(ValueError, match="number of examples"):
        comparison.pairwise([rng.standard_normal((3, 20)), rng.standard_normal((3, 21))])
    mostly_one_point = np.concatenate([np.ones((3, 30)), rng.standard_normal((3, 10))], axis=1)
    with pytest.raises(ValueError, match="most examples coincide"):  # RBF's bandwidth, the median distance, is 0
        comparison.pairwise([mostly_one_point, rng.standard_normal((3, 40))], ["RBF CKA"])
    with pytest.raises(ValueError, match="number of examples"):
        comparison.layer_identification([[rng.standard_normal((3, 20))], [rng.standard_normal((3, 21))]], ["RBF CKA"])
    layer = rng.standard_normal((3, 20))
    with pytest.raises(ValueError, match=r"same number of layers; got 2 with \[1, 2\] layers"):
        comparison.layer_identification([[layer], [layer, layer]])
    with pytest.raises(ValueError, match="at least two networks"):
        comparison.layer_identification([[layer, layer]])
