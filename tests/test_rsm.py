import numpy as np
import pytest
from hypothesis import given, strategies as st

from nnsrm_utils import rsm
from nnsrm_utils.transforms import random_orthogonal

seeds = st.integers(0, 2**32 - 1)


def test_pearson_matches_corrcoef_on_columns(rng):
    x = rng.standard_normal((20, 30))
    np.testing.assert_allclose(rsm.rsm(x, "pearson"), np.corrcoef(x.T), atol=1e-12)


def test_cosine_and_gram(rng):
    x = rng.standard_normal((20, 30))
    g = x.T @ x
    np.testing.assert_allclose(rsm.rsm(x, "gram"), g, atol=1e-12)
    d = np.sqrt(np.diag(g))
    np.testing.assert_allclose(rsm.rsm(x, "cosine"), g / np.outer(d, d), atol=1e-12)


@given(seed=seeds, units=st.integers(2, 30), examples=st.integers(3, 40), similarity=st.sampled_from(["cosine", "gram"]))
def test_cosine_and_gram_rsms_are_rotation_invariant(seed, units, examples, similarity):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((units, examples))
    q = random_orthogonal(units, rng)
    np.testing.assert_allclose(rsm.rsm(q @ x, similarity), rsm.rsm(x, similarity), atol=1e-9)


@given(seed=seeds, units=st.integers(3, 30), examples=st.integers(4, 40))
def test_pearson_rsm_is_not_rotation_invariant(seed, units, examples):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((units, examples))
    q = random_orthogonal(units, rng)
    assert np.abs(rsm.rsm(q @ x, "pearson") - rsm.rsm(x, "pearson")).max() > 1e-3


def test_pearson_rsm_is_permutation_invariant(rng):
    x = rng.standard_normal((10, 25))
    np.testing.assert_allclose(rsm.rsm(x[rng.permutation(10)]), rsm.rsm(x), atol=1e-12)


def test_within_rsm_is_mean_of_network_rsms(rng):
    xs = [rng.standard_normal((u, 15)) for u in (5, 8, 11)]
    expected = np.mean([np.corrcoef(x.T) for x in xs], axis=0)
    np.testing.assert_allclose(rsm.within_rsm(xs), expected, atol=1e-12)


def test_inter_rsm_is_leave_one_out_as_the_authors_define_it(rng):
    xs = [rng.standard_normal((6, 12)) for _ in range(4)]
    expected = 0
    for i, x in enumerate(xs):
        others = np.mean([y for j, y in enumerate(xs) if j != i], axis=0)
        expected = expected + np.corrcoef(x.T, others.T)[:12, 12:]
    np.testing.assert_allclose(rsm.inter_rsm(xs), expected / 4, atol=1e-12)
    assert not np.allclose(rsm.inter_rsm(xs), rsm.inter_rsm(xs).T)


def test_identical_networks_make_inter_equal_within(rng):
    x = rng.standard_normal((6, 12))
    np.testing.assert_allclose(rsm.inter_rsm([x, x, x]), rsm.within_rsm([x, x, x]), atol=1e-12)


def test_compare_rsms_uses_strict_lower_triangle(rng):
    a, b = rng.standard_normal((2, 8, 8))
    lo = np.tril_indices(8, -1)
    assert rsm.compare_rsms(a, b) == pytest.approx(np.corrcoef(a[lo], b[lo])[0, 1])
    assert rsm.compare_rsms(a, b, part="full") == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    assert rsm.compare_rsms(a, a, "kendall") == pytest.approx(1.0)
    assert rsm.compare_rsms(a, np.exp(a), "spearman") == pytest.approx(1.0)


def test_vectorised_speed_scale(rng):
    # 10 networks x 2,000 examples: must be a handful of matrix products, not loops over pairs.
    xs = [rng.standard_normal((50, 2000)) for _ in range(10)]
    w, i = rsm.within_rsm(xs), rsm.inter_rsm(xs)
    assert w.shape == i.shape == (2000, 2000)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.ones(5), "2-D"),
        (np.ones((5, 1)), "at least 2 are needed"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), "NaN or infinite"),
    ],
)
def test_bad_activations_raise(bad, message):
    with pytest.raises(ValueError, match=message):
        rsm.rsm(bad)


def test_constant_example_column_raises_for_pearson():
    x = np.array([[1.0, 2.0, 3.0], [1.0, 5.0, 1.0]])
    with pytest.raises(ValueError, match="constant across units"):
        rsm.rsm(x, "pearson")
    rsm.rsm(x, "gram")  # still defined
    x = np.vstack([np.full((1, 20), 3.3), np.linspace(0, 1, 20)]).T  # a mean of 3.3s rounds off by 2 ulps
    with pytest.raises(ValueError, match="constant across units"):
        rsm.rsm(x, "pearson")


def test_rsms_to_compare_must_be_square_and_large_enough(rng):
    with pytest.raises(ValueError, match="square"):
        rsm.compare_rsms(rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), part="full")
    with pytest.raises(ValueError, match="at least 3 entries"):
        rsm.compare_rsms(np.eye(2), np.eye(2))
    assert np.isfinite(rsm.compare_rsms(rng.standard_normal((2, 2)), rng.standard_normal((2, 2)), part="full"))


def test_layer_errors(rng):
    with pytest.raises(ValueError, match="disagree on the number of examples"):
        rsm.within_rsm([rng.standard_normal((3, 10)), rng.standard_normal((3, 11))])
    with pytest.raises(ValueError, match="different numbers of units"):
        rsm.inter_rsm([rng.standard_normal((3, 10)), rng.standard_normal((4, 10))])
    with pytest.raises(ValueError, match="at least 2 network"):
        rsm.inter_rsm([rng.standard_normal((3, 10))])
    with pytest.raises(ValueError, match="list of"):
        rsm.within_rsm(rng.standard_normal((3, 10)))
    with pytest.raises(ValueError, match="similarity must be"):
        rsm.rsm(rng.standard_normal((3, 10)), "spearman")
    with pytest.raises(ValueError, match="same shape"):
        rsm.compare_rsms(np.eye(3), np.eye(4))


@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e-17), (np.float64, 1e-160), (np.float64, 1e160),
                                          (np.float32, 1e-8), (np.float32, 1e30)])
def test_rsms_do_not_depend_on_the_data_scale(rng, dtype, scale):
    x = rng.standard_normal((20, 12))
    for similarity in ("pearson", "cosine"):
        np.testing.assert_allclose(rsm.rsm((scale * x).astype(dtype), similarity), rsm.rsm(x, similarity),
                                   atol=1e-5 if dtype == np.float32 else 1e-12)


def test_rsms_and_their_comparison_agree_with_rsatoolbox(rng):
    """rsatoolbox's correlation RDM is 1 - our Pearson RSM; its 'corr', 'spearman' and 'kendall'
    (tau-a) comparisons are ours on the off-diagonal triangle."""
    pytest.importorskip("rsatoolbox")
    from rsatoolbox.data import Dataset
    from rsatoolbox.rdm import calc_rdm, compare

    x = rng.standard_normal((30, 12))
    y = rng.standard_normal((20, 30)) @ x + 3 * rng.standard_normal((20, 12))  # related, not equal
    theirs = [calc_rdm(Dataset(a.T), method="correlation") for a in (x, y)]  # rsatoolbox: examples x channels
    np.testing.assert_allclose(1 - rsm.rsm(x), theirs[0].get_matrices()[0], atol=1e-13)
    for ours, method in (("pearson", "corr"), ("spearman", "spearman"), ("kendall", "kendall")):
        assert rsm.compare_rsms(rsm.rsm(x), rsm.rsm(y), method=ours) == pytest.approx(
            compare(*theirs, method=method)[0, 0], abs=1e-12)


def test_figures_check_labels_against_the_examples(rng):
    import matplotlib

    matplotlib.use("Agg")
    from nnsrm_utils import plotting

    x = rng.standard_normal((5, 12))
    with pytest.raises(ValueError, match="12 labels for 5 examples.*pass the transpose"):
        plotting.plot_class_means({"native": [x.T, x.T]}, np.arange(12) % 3)
    with pytest.raises(ValueError, match="5 labels for an RSM of 12 examples"):
        plotting.plot_rsm(rsm.rsm(x), labels=np.arange(5))
    plotting.plot_class_means({"native": [x, x]}, np.arange(12) % 3)
    matplotlib.pyplot.close("all")


def test_class_mean_rsm_recovers_planted_blocks(rng):
    """Blocks of constant similarity (a different value within each class) come back exactly,
    the self-similarities on the diagonal left out; class order is np.unique's."""
    labels = np.array([2, 0, 0, 2, 1, 1, 1, 0])
    blocks = np.array([[0.5, 0.1, -0.2], [0.1, 0.7, 0.0], [-0.2, 0.0, 0.3]])
    A = blocks[labels][:, labels]
    np.fill_diagonal(A, 1.0)
    np.testing.assert_allclose(rsm.class_mean_rsm(A, labels), blocks, atol=1e-12)
    noisy = A + 0.1 * rng.standard_normal(A.shape)
    by_hand = noisy[np.ix_(labels == 1, labels == 0)].mean()
    assert rsm.class_mean_rsm(noisy, labels)[1, 0] == pytest.approx(by_hand)
    with pytest.raises(ValueError, match="one label per example"):
        rsm.class_mean_rsm(A, labels[:-1])
    with pytest.raises(ValueError, match="at least 2 examples"):
        rsm.class_mean_rsm(A[:7, :7], np.r_[labels[:6], 5])
