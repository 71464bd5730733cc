"""Model stitching (stitching.py): splits that compose to the network, maps that recover planted
transformations, a trained stitching layer that learns and leaves network B alone."""
import numpy as np
import pytest
import torch

from nnsrm_utils import stitching
from nnsrm_utils.models import ConvNet, PreActResNet18
from nnsrm_utils.transforms import random_orthogonal


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return ConvNet(width=0.25).eval()


@pytest.fixture(scope="module")
def images():
    return torch.randn(60, 3, 32, 32, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def resnet(images):
    """A narrow ResNet whose BatchNorms have statistics and scales of their own, as after training."""
    torch.manual_seed(0)
    model = PreActResNet18(width=4)
    for bn in model.analysed_layers.values():
        torch.nn.init.uniform_(bn.weight, 0.5, 2)
        torch.nn.init.normal_(bn.bias)
    with torch.no_grad():
        model.train()(images)  # running statistics of these images
    return model.eval()


@pytest.mark.parametrize("layer", ["pool1", "pool2", "dense", "logits"])
def test_bottom_then_top_is_the_network(net, images, layer):
    bottom, top = stitching.split(net, layer)
    with torch.no_grad():
        torch.testing.assert_close(top(bottom(images)), net(images))
        torch.testing.assert_close(stitching.layer_outputs(net, images, batch_size=25)[layer], bottom(images))


@pytest.mark.parametrize("layer", [f"bn{i}" for i in range(1, 18, 2)])
def test_a_resnet_splits_at_every_analysed_layer(resnet, images, layer):
    """The bottom ends in the recorded BatchNorm output; inside a block (bn3 ... bn15) the top
    undoes it to recover the block's input, so the two compose to the network."""
    bottom, top = stitching.split(resnet, layer)
    with torch.no_grad():
        torch.testing.assert_close(top(bottom(images)), resnet(images), atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(stitching.layer_outputs(resnet, images, batch_size=25)[layer], bottom(images))


def _planted(layer_shape, M, seed=0):
    a = torch.randn(*layer_shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    shift = torch.arange(layer_shape[1], dtype=torch.float64)
    M = torch.as_tensor(M)
    b = a @ M.T + shift if a.ndim == 2 else torch.einsum("ij,njhw->nihw", M, a) + shift[:, None, None]
    return a.float(), b.float()


@pytest.mark.parametrize("shape", [(400, 6), (50, 6, 4, 4)])
@pytest.mark.parametrize("method", ["procrustes", "scaled procrustes", "least squares", "srm"])
def test_a_planted_orthogonal_map_is_recovered(shape, method):
    Q = random_orthogonal(6, 3)
    a, b = _planted(shape, Q)
    M, mu_a, mu_b = stitching.fit_map(a, b, method)
    np.testing.assert_allclose(M, Q, atol=1e-3 if method == "srm" else 1e-5)
    torch.testing.assert_close(stitching.apply_map((M, mu_a, mu_b), a), b, atol=2e-3, rtol=0)


def test_the_scaled_map_recovers_a_planted_scale_and_the_orthogonal_one_ignores_it():
    Q = random_orthogonal(6, 3)
    a, b = _planted((400, 6), 0.25 * Q)
    np.testing.assert_allclose(stitching.fit_map(a, b, "scaled procrustes")[0], 0.25 * Q, atol=1e-5)
    np.testing.assert_allclose(stitching.fit_map(a, b, "procrustes")[0], Q, atol=1e-5)


def test_only_least_squares_recovers_a_general_linear_map():
    G = random_orthogonal(6, 4) * np.linspace(0.3, 3, 6) @ random_orthogonal(6, 5)
    a, b = _planted((500, 6), G)
    assert np.allclose(stitching.fit_map(a, b, "least squares")[0], G, atol=1e-5)
    M = stitching.fit_map(a, b, "procrustes")[0]
    np.testing.assert_allclose(M.T @ M, np.eye(6), atol=1e-10)
    assert not np.allclose(M, G, atol=0.1)


def test_srm_with_fewer_dimensions_maps_through_a_projection():
    a, b = _planted((500, 6), random_orthogonal(6, 6))
    M = stitching.fit_map(a, b, "srm", k=2)[0]
    assert np.linalg.matrix_rank(M, tol=1e-8) == 2


def test_a_network_stitched_to_itself_is_unchanged(net, images):
    out = stitching.layer_outputs(net, images)["pool2"]
    top = stitching.split(net, "pool2")[1]
    labels = net(images).argmax(1).numpy()
    stitch = stitching.fit_map(out, out, "procrustes")
    assert stitching.accuracy(top, stitching.apply_map(stitch, out), labels) == 1.0


def test_a_trained_stitch_learns_and_leaves_network_b_alone(net, images):
    out = stitching.layer_outputs(net, images)["dense"]
    top = stitching.split(net, "dense")[1]
    labels = net(images).argmax(1).numpy()
    scrambled = (random_orthogonal(out.shape[1], 0), out.mean(0).double().numpy(), out.mean(0).double().numpy())
    before = {k: v.clone() for k, v in top.state_dict().items()}
    trained = stitching.train_map(top, out, labels, scrambled, epochs=30, lr=1e-2)
    assert stitching.accuracy(top, stitching.apply_map(trained, out), labels) > \
        stitching.accuracy(top, stitching.apply_map(scrambled, out), labels) + 0.2
    assert all(torch.equal(before[k], v) for k, v in top.state_dict().items())
    assert all(p.requires_grad for p in top.parameters())
    again = stitching.train_map(top, out, labels, scrambled, epochs=30, lr=1e-2)  # seeded: the same map
    assert all(np.array_equal(x, y) for x, y in zip(trained, again))
    frozen = next(top.parameters()).requires_grad_(False)  # a parameter the caller froze stays frozen
    stitching.train_map(top, out, labels, scrambled, epochs=1)
    assert not frozen.requires_grad and all(p.requires_grad for p in list(top.parameters())[1:])


def test_bad_input(net):
    with pytest.raises(ValueError, match="a ConvNet or a PreActResNet18; got Linear"):
        stitching.split(torch.nn.Linear(3, 2), "bn1")
    with pytest.raises(ValueError, match="layer must be one of"):
        stitching.split(PreActResNet18(width=4), "bn2")
    dead = PreActResNet18(width=4)
    torch.nn.init.zeros_(dead.analysed_layers["bn5"].weight)
    with pytest.raises(ValueError, match="scales a channel by 0"):
        stitching.split(dead, "bn5")
    with pytest.raises(ValueError, match="layer must be one of"):
        stitching.split(net, "block1")
    a = torch.zeros(10, 4)
    with pytest.raises(ValueError, match="method must be"):
        stitching.fit_map(a, a, "cca")
    with pytest.raises(ValueError, match="same shape"):
        stitching.fit_map(a, torch.zeros(10, 5))
    with pytest.raises(ValueError, match="NaN"):
        stitching.fit_map(a, torch.full((10, 4), float("nan")))
    with pytest.raises(ValueError, match=r"\(n, C, H, W\) or \(n, D\); got shape \(10, 4, 3\)"):
        stitching.fit_map(torch.zeros(10, 4, 3), torch.zeros(10, 4, 3))
