"""Models, training and recording on tiny data (CPU, a few seconds)."""
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from nnsrm_utils import record
from nnsrm_utils.models import ConvNet, PreActResNet18, build_model
from nnsrm_utils.train import TrainConfig, augment, load_weights, train_network

TINY = TrainConfig(architecture="convnet", epochs=2, logged_epochs=(0, 1, 2), batch_size=16)


@pytest.fixture(scope="module")
def tiny_data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(48, 3, 32, 32, generator=g), torch.randint(0, 10, (48,), generator=g)


def _weights(model):
    return torch.cat([p.detach().flatten().cpu() for p in model.state_dict().values() if p.dtype.is_floating_point])


def test_convnet_layers_have_the_papers_sizes():
    model, out = ConvNet(), {}
    for name, m in model.analysed_layers.items():
        m.register_forward_hook(lambda mod, i, o, name=name: out.__setitem__(name, o[0].numel()))
    model(torch.zeros(1, 3, 32, 32))
    assert out == {"pool1": 7200, "pool2": 2304, "dense": 512, "logits": 10}


@pytest.mark.parametrize("stem, bn1_shape", [("imagenet", (16, 16, 16)), ("cifar", (16, 32, 32))])
def test_resnet_analyses_nine_batchnorm_outputs(stem, bn1_shape):
    model = PreActResNet18(width=16, stem=stem)
    assert list(model.analysed_layers) == [f"bn{i}" for i in range(1, 18, 2)]
    out = {}
    model.analysed_layers["bn1"].register_forward_hook(lambda m, i, o: out.__setitem__("bn1", tuple(o.shape[1:])))
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert out["bn1"] == bn1_shape  # the ImageNet stem halves 32x32 before its max-pool


def test_bad_architecture_raises():
    with pytest.raises(ValueError, match="architecture"):
        build_model("vgg")
    with pytest.raises(ValueError, match="stem"):
        PreActResNet18(stem="tiny")


def test_augment_shifts_and_flips_within_bounds():
    ones = torch.ones(20, 3, 32, 32)
    out = augment(ones, torch.Generator().manual_seed(1))
    assert out.shape == ones.shape
    rows, cols = (out[:, 0] > 0).sum(2).amax(1), (out[:, 0] > 0).sum(1).amax(1)
    assert torch.all(rows >= 29) and torch.all(cols >= 29)  # a shift of at most 3 pixels
    assert not torch.equal(out, ones)


def test_training_is_deterministic_and_seeded(tmp_path, tiny_data):
    a = train_network(TINY, *tiny_data, seed=1, net_dir=tmp_path / "a")
    b = train_network(TINY, *tiny_data, seed=1, net_dir=tmp_path / "b")
    c = train_network(TINY, *tiny_data, seed=2, net_dir=tmp_path / "c")
    assert torch.equal(_weights(a), _weights(b))
    assert not torch.equal(_weights(a), _weights(c))
    assert sorted(p.name for p in (tmp_path / "a").glob("epoch_*.pt")) == ["epoch_000.pt", "epoch_001.pt", "epoch_002.pt"]


def test_a_folder_missing_a_logged_checkpoint_is_not_taken_as_trained(tmp_path, tiny_data):
    """A run folder synced only in part (state.pt there, a logged checkpoint not) is refused when
    training resumes, by both paths, rather than counting as trained and failing at recording."""
    train_network(TINY, *tiny_data, seed=1, net_dir=tmp_path / "net")
    (tmp_path / "net" / "epoch_001.pt").unlink()
    with pytest.raises(ValueError, match=r"lacks the checkpoints of epochs \[1\].*delete the folder"):
        train_network(TINY, *tiny_data, seed=1, net_dir=tmp_path / "net")
    from nnsrm_utils.batched import train_networks
    with pytest.raises(ValueError, match=r"lacks the checkpoints of epochs \[1\]"):
        train_networks(TINY, *tiny_data, [1], [tmp_path / "net"], "cpu")


def test_resumed_run_equals_uninterrupted(tmp_path, tiny_data):
    full = train_network(TINY, *tiny_data, seed=3, net_dir=tmp_path / "full")
    train_network(replace(TINY, epochs=1), *tiny_data, seed=3, net_dir=tmp_path / "resumed")  # "interrupted"
    resumed = train_network(TINY, *tiny_data, seed=3, net_dir=tmp_path / "resumed")
    assert torch.equal(_weights(full), _weights(resumed))
    assert len(json.loads((tmp_path / "resumed" / "history.json").read_text())) == 2
    # a finished run is loaded, not retrained
    again = train_network(TINY, *tiny_data, seed=3, net_dir=tmp_path / "resumed")
    assert torch.equal(_weights(again), _weights(full))
    assert torch.equal(_weights(load_weights(TINY, tmp_path / "full", 2)), _weights(full))
    with pytest.raises(FileNotFoundError, match="no checkpoint for epoch 5"):
        load_weights(TINY, tmp_path / "full", 5)


def test_recording_streams_the_right_layers(tmp_path, tiny_data):
    model = ConvNet().eval()
    x = tiny_data[0][:20]
    manifest = record.record_activations(model, model.analysed_layers, x, tmp_path, batch_size=7,
                                         max_units=100, unit_seed=5, metadata={"seed": 1})
    assert manifest["metadata"]["seed"] == 1 and "torch" in manifest["metadata"]["versions"]
    dense = record.load_activations(tmp_path, "dense")
    assert dense.shape == (100, 20) and dense.dtype == np.float32
    logits = record.load_activations(tmp_path, "logits")
    with torch.no_grad():
        expected = model(x).numpy().T
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)  # 10 units: all kept, layout (units, examples)
    with torch.no_grad():
        pool1 = model.pool1(model.block1(x)).flatten(1).numpy().T
    kept = manifest["layers"]["pool1"]["units_kept"]
    np.testing.assert_allclose(record.load_activations(tmp_path, "pool1"), pool1[kept], rtol=1e-5, atol=1e-6)
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("max_positions", [50, 10_000])
def test_neuron_activity_gathers_the_sampled_conv_points(tiny_data, max_positions):
    from nnsrm_utils.conv import conv_units

    torch.manual_seed(0)
    model = ConvNet().eval()
    x = torch.as_tensor(tiny_data[0][:7])
    with torch.no_grad():
        full = model.pool1(model.block1(x)).numpy()
    got = record.neuron_activity(model, {"pool1": model.pool1, "dense": model.dense}, x, max_positions, batch_size=3)
    expected = conv_units(full, "positions", max_positions=max_positions, random_state=0)
    np.testing.assert_allclose(got["pool1"], expected, rtol=1e-5, atol=1e-6)
    assert got["dense"].shape == (512, 7)


def test_unit_subsampling_is_seeded():
    a, b = record.subsample_units(7200, 1000, [1, 0]), record.subsample_units(7200, 1000, [1, 0])
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 1000 and not np.array_equal(a, record.subsample_units(7200, 1000, [2, 0]))
    assert record.subsample_units(512, 1000, 0) is None


def test_manifest_detects_corruption_and_mismatch(tmp_path, tiny_data):
    model = ConvNet().eval()
    record.record_activations(model, {"logits": model.logits}, tiny_data[0][:8], tmp_path)
    path = tmp_path / "logits.npy"
    arr = np.load(path)
    arr[0, 0] += 1
    np.save(path, arr)
    with pytest.raises(ValueError, match="checksum"):
        record.load_activations(tmp_path, "logits")
    np.save(path, np.zeros((3, 8), np.float32))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["layers"]["logits"]["sha256"] = record.sha256(path)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="shape"):
        record.load_activations(tmp_path, "logits")
    with pytest.raises(KeyError, match="not recorded"):
        record.load_activations(tmp_path, "dense")
    with pytest.raises(FileNotFoundError, match="manifest"):
        record.load_activations(tmp_path / "nowhere", "dense")
    (tmp_path / "manifest.json").write_text('{"layers": {"logits"')  # cut short, as by a full disk
    with pytest.raises(ValueError, match="damaged"):
        record.load_activations(tmp_path, "logits")


def test_a_recording_is_the_modules_own_output_even_if_changed_in_place_later():
    """A Linear followed by ReLU(inplace=True): the recorded output keeps its negative values."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(inplace=True), torch.nn.Linear(6, 2))
    x = torch.randn(20, 4)
    recorded = record.layer_outputs(net, {"linear": net[0]}, x, batch_size=7)["linear"]
    with torch.no_grad():
        np.testing.assert_allclose(recorded, net[0](x).numpy().T, rtol=1e-6)
    assert recorded.min() < 0


def test_a_module_the_model_reuses_is_refused():
    class Reuses(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear, self.relu = torch.nn.Linear(3, 3), torch.nn.ReLU()

        def forward(self, x):
            return self.relu(self.linear(self.relu(x)))

    net = Reuses()
    with pytest.raises(ValueError, match="ran more than once"):
        record.layer_outputs(net, {"relu": net.relu}, torch.randn(5, 3))


def test_recording_runs_cudnn_in_full_float32_and_restores_its_flags():
    """TF32 convolutions (cuDNN's default on CUDA) are off while recording, and only then."""
    seen = []
    net = torch.nn.Sequential(torch.nn.Linear(3, 3))
    net.register_forward_hook(lambda *_: seen.append(torch.backends.cudnn.allow_tf32))
    before = (torch.backends.cudnn.allow_tf32, torch.backends.cudnn.deterministic)
    record.layer_outputs(net, {"linear": net[0]}, torch.randn(5, 3), batch_size=2)
    assert seen == [False] * 3
    assert (torch.backends.cudnn.allow_tf32, torch.backends.cudnn.deterministic) == before
