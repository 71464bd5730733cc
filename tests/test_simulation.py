import numpy as np
import pytest

from nnsrm_utils import simulation as sim


def test_xor_clouds_layout_and_labels():
    x, y = sim.xor_clouds(n_per_cloud=30, random_state=0)
    assert x.shape == (120, 2) and y.shape == (120,)
    # the label is the XOR of the signs, up to the few points that noise pushes across an axis
    assert np.mean(y == (np.sign(x[:, 0]) != np.sign(x[:, 1]))) > 0.9
    np.testing.assert_array_equal(x, sim.xor_clouds(n_per_cloud=30, random_state=0)[0])


@pytest.fixture(scope="module")
def run():
    return sim.simulation_run(0, n_copies=4, transform_kinds=("orthogonal", "permutation"))


def test_network_learns_xor(run):
    assert run[1] > 0.9


def test_srm_undoes_orthogonal_copies_exactly_with_cosine_centred(run):
    scores, _ = run
    for kind in ("orthogonal", "permutation"):
        assert scores[kind, "cosine, centred", "shared", "pearson"] > 0.9999
        assert scores[kind, "cosine, centred", "shared", "kendall"] > 0.999
        # without alignment the geometry is lost
        assert scores[kind, "cosine, centred", "native", "pearson"] < 0.5


def test_uncentred_analysis_ranks_permutations_below_rotations(run):
    # uncentred on both sides, as the authors did: the shared space sits at an arbitrary
    # rotation, so for permutation copies the uncentred iRSM drifts from the wRSM
    tau = {kind: run[0][kind, "exact EM", "shared", "kendall"] for kind in ("orthogonal", "permutation")}
    assert 0.8 < tau["permutation"] < tau["orthogonal"] < 0.999


def test_brainiaks_updates_misalign_rotated_copies(run):
    # the 0.001 I sets the maps along the activity's tiny directions, differently per copy
    scores = run[0]
    assert scores["orthogonal", "as published", "shared", "kendall"] < scores["orthogonal", "exact EM", "shared", "kendall"] - 0.05


def test_uncentred_shared_space_differs_by_one_offset_per_feature():
    h = np.random.default_rng(0).random((6, 60)) + 2
    aligned = sim.align_copies(h[:, :40], h[:, 40:], sim.network_copies(6, 3, random_state=0), n_features=6)
    for raw, centred in zip(aligned["shared_uncentred"], aligned["shared"]):
        offset = raw - centred
        np.testing.assert_allclose(offset, offset[:, :1] * np.ones_like(offset), atol=1e-12)
        assert np.abs(offset).max() > 1


def test_training_is_deterministic():
    a, b = sim.xor_experiment(3, epochs=50), sim.xor_experiment(3, epochs=50)
    np.testing.assert_array_equal(a["h_test"], b["h_test"])


def test_unknown_transform_raises():
    with pytest.raises(ValueError, match="transform must be one of"):
        sim.network_copies(5, 2, "shear")


def test_authors_settings_shift_the_clouds_and_drop_the_output_sigmoid():
    x, y = sim.xor_clouds(n_per_cloud=200, noise=0.3, shift=1.0, random_state=0)
    np.testing.assert_allclose(x.mean(0), [1, 1], atol=0.05)   # the corners moved by (+1, +1)
    net = sim.train_xor_net(x, y, n_hidden=4, epochs=1, linear_output=True)
    assert [type(m).__name__ for m in net] == ["Linear", "Sigmoid", "Linear"]
    data = sim.xor_experiment(0, n_per_cloud=10, n_hidden=4, epochs=1, settings="authors")
    assert data["h_test"].shape == (4, 40)


def test_unknown_settings_or_analysis_raise():
    with pytest.raises(ValueError, match="settings must be one of"):
        sim.xor_experiment(0, n_per_cloud=5, epochs=1, settings="paper")
    with pytest.raises(ValueError, match="analyses must be among"):
        sim.simulation_run(0, n_copies=2, analyses=("as published", "spearman"))
