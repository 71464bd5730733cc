"""Many networks trained as one (nnsrm_utils.batched) against one at a time (nnsrm_utils.train), on the CPU.

Tiny sizes: 64 images, narrow models, 1-2 epochs (the whole file takes about 10 s).
"""
import json
from dataclasses import replace

import pytest
import torch

from nnsrm_utils import batched, train
from nnsrm_utils.batched import BatchedNetworks, train_networks
from nnsrm_utils.models import build_model
from nnsrm_utils.train import TrainConfig, load_weights, train_network
from test_pipeline import tiny_jpeg  # noqa: F401  (a fixture: a tiny JPEG copy of CIFAR-10)

CONVNET = TrainConfig("convnet", model_kwargs={"width": 0.25}, epochs=2, logged_epochs=(0, 2), batch_size=32)
RESNET = TrainConfig("resnet18", model_kwargs={"width": 4, "stem": "cifar"}, epochs=2, logged_epochs=(0, 1, 2),
                     batch_size=32, optimizer="adam", lr=1e-3, l2=1e-4, augment=True)
# the distance between a batched network's weights and its one-at-a-time twin, relative to the
# distance the twin moved from its initialisation: measured up to 2e-4 (ResNet), 6e-6 (ConvNet)
CLOSE = 1e-3


@pytest.fixture(scope="module")
def images():
    g = torch.Generator().manual_seed(0)
    return torch.randn(64, 3, 32, 32, generator=g), torch.randint(0, 10, (64,), generator=g)


def _flat(model_or_state):
    state = model_or_state if isinstance(model_or_state, dict) else model_or_state.state_dict()
    return torch.cat([v.flatten().float() for v in state.values() if v.dtype.is_floating_point])


def _dirs(tmp_path, name, seeds):
    return [tmp_path / f"{name}{s}" for s in seeds]


@pytest.mark.parametrize("config", [CONVNET, RESNET, replace(RESNET, model_kwargs={"width": 4, "stem": "imagenet"})],
                         ids=["convnet", "resnet-cifar", "resnet-imagenet"])
def test_initial_weights_and_forward_pass_are_the_single_models(tmp_path, images, config):
    """Epoch 0 is bit for bit train.py's; the batched forward pass is each model's own, in eval mode
    and (batch statistics, no dropout) in training mode, in either memory format."""
    seeds = [3, 5]
    models = train_networks(replace(config, epochs=0), *images, seeds, _dirs(tmp_path, "b", seeds), "cpu")
    for seed, model, net_dir in zip(seeds, models, _dirs(tmp_path, "b", seeds)):
        train_network(replace(config, epochs=0), *images, seed, tmp_path / f"s{seed}", "cpu")
        single = torch.load(tmp_path / f"s{seed}" / "epoch_000.pt", weights_only=True)
        assert torch.equal(_flat(single), _flat(load_weights(config, net_dir, 0))) and torch.equal(_flat(single),
                                                                                                 _flat(model))
    x = images[0][:16].reshape(2, 8, 3, 32, 32)
    for training, channels_last in [(False, False), (True, False), (False, True), (True, True)]:
        if training and config.architecture == "convnet":
            continue  # dropout: the next test
        # channels-last is CUDA's memory format, tested here on the CPU
        net = BatchedNetworks(models, [torch.Generator() for _ in models], channels_last=channels_last,
                              training=training)
        with torch.no_grad():
            got = net.forward(x)
            for i, model in enumerate(models):
                torch.testing.assert_close(got[i], model.train(training)(x[i]), rtol=1e-5, atol=1e-5)


def test_example_order_and_augmentation_are_the_single_paths(tmp_path, images, monkeypatch):
    """Every batch each network sees in an epoch, shifts and flips included, is exactly the one
    train.py feeds the same seed (48 images: the last batch is a short one)."""
    config = replace(CONVNET, epochs=1, augment=True)
    x, y = images[0][:48], images[1][:48]
    seen = {}

    def recording(*args, **kwargs):
        model, seed = build_model(*args, **kwargs), torch.initial_seed()  # train.py seeded torch with it
        model.register_forward_pre_hook(lambda m, inputs: seen.setdefault(seed, []).append(inputs[0]))
        return model

    monkeypatch.setattr(train, "build_model", recording)
    for seed in (1, 2):
        train_network(config, x, y, seed, tmp_path / f"s{seed}", "cpu")
    batches, forward = [], BatchedNetworks.forward
    monkeypatch.setattr(BatchedNetworks, "forward", lambda self, xb: batches.append(xb) or forward(self, xb))
    train_networks(config, x, y, [1, 2], _dirs(tmp_path, "b", [1, 2]), "cpu")
    assert [len(b[0]) for b in batches] == [32, 16]
    for i, seed in enumerate((1, 2)):
        assert len(seen[seed]) == len(batches)
        for single, both in zip(seen[seed], batches):
            assert torch.equal(single, both[i])


@pytest.mark.parametrize("config", [CONVNET, RESNET], ids=["convnet-with-dropout", "resnet"])
def test_trained_batched_ends_close_to_one_at_a_time(tmp_path, images, config):
    """Two epochs: weights within ``CLOSE`` (relative to the distance moved), the same history.

    Dropout included: on the CPU a network's masks come from a generator started in the state
    train.py's global generator has after the model is built, and are drawn as
    ``torch.nn.functional.dropout`` draws them, so they are the same masks; only the order of
    floating-point operations in the grouped kernels differs.  (On CUDA the single path's fused
    dropout kernel draws differently, so there only statistics could be compared.)
    """
    seeds = [0, 1]
    models = train_networks(config, *images, seeds, _dirs(tmp_path, "b", seeds), "cpu")
    for seed, model in zip(seeds, models):
        single = train_network(config, *images, seed, tmp_path / f"s{seed}", "cpu")
        init = _flat(load_weights(config, tmp_path / f"s{seed}", 0))
        moved = torch.linalg.norm(_flat(single) - init)
        assert torch.linalg.norm(_flat(model) - _flat(single)) < CLOSE * moved
        h_single = json.loads((tmp_path / f"s{seed}" / "history.json").read_text())
        h_batched = json.loads((tmp_path / f"b{seed}" / "history.json").read_text())
        assert [r["lr"] for r in h_batched] == [r["lr"] for r in h_single]
        assert [r["accuracy"] for r in h_batched] == pytest.approx([r["accuracy"] for r in h_single], abs=0.02)
        assert [r["loss"] for r in h_batched] == pytest.approx([r["loss"] for r in h_single], rel=1e-5)


@pytest.mark.parametrize("config", [CONVNET, RESNET], ids=["convnet", "resnet"])
def test_mixed_precision_path_trains_like_float32(tmp_path, images, config):
    """The bfloat16 autocast the CUDA path uses, run on the CPU: the same losses to bfloat16's
    precision (measured within 2%), float32 weights and checkpoints, and the choice recorded."""
    seeds, config = [0, 1], replace(config, epochs=1, logged_epochs=(0, 1))
    train_networks(config, *images, seeds, _dirs(tmp_path, "f", seeds), "cpu")
    models = train_networks(config, *images, seeds, _dirs(tmp_path, "m", seeds), "cpu", mixed_precision=True)
    assert all(p.dtype == torch.float32 for model in models for p in model.parameters())
    for seed in seeds:
        h32 = json.loads((tmp_path / f"f{seed}" / "history.json").read_text())
        h16 = json.loads((tmp_path / f"m{seed}" / "history.json").read_text())
        assert [r["loss"] for r in h16] == pytest.approx([r["loss"] for r in h32], rel=0.05)
        assert json.loads(torch.load(tmp_path / f"m{seed}" / "state.pt", weights_only=False)["trainer"])["mixed_precision"]


def test_a_network_depends_only_on_its_own_seed(tmp_path, images):
    """Seed 0 trained beside seed 1, and in second place beside seeds 2 and 1: the same network
    (max |difference| measured 1e-6: the grouped kernels' rounding depends on the group)."""
    a = train_networks(CONVNET, *images, [0, 1], _dirs(tmp_path, "a", [0, 1]), "cpu")[0]
    b = train_networks(CONVNET, *images, [2, 0, 1], _dirs(tmp_path, "b", [2, 0, 1]), "cpu")[1]
    assert torch.max(torch.abs(_flat(a) - _flat(b))) < 1e-5
    assert not torch.allclose(_flat(a), _flat(load_weights(CONVNET, tmp_path / "b2", 2)), atol=1e-3)  # seed 2's


class _Stop(Exception):
    pass


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, images, monkeypatch):
    """Stopped after epoch 1 (bit for bit, dropout generators included), and stopped between two
    networks' checkpoints (the network behind catches up on its own: close, 1e-5)."""
    seeds = [0, 1]
    full = train_networks(CONVNET, *images, seeds, _dirs(tmp_path, "full", seeds), "cpu")

    def stop(epoch, rows):
        raise _Stop

    with pytest.raises(_Stop):
        train_networks(CONVNET, *images, seeds, _dirs(tmp_path, "cut", seeds), "cpu", progress=stop)
    assert json.loads((tmp_path / "cut0" / "history.json").read_text())[-1]["epoch"] == 1
    resumed = train_networks(CONVNET, *images, seeds, _dirs(tmp_path, "cut", seeds), "cpu")
    for a, b, seed in zip(full, resumed, seeds):
        assert torch.equal(_flat(a), _flat(b))
        assert (tmp_path / f"full{seed}" / "history.json").read_text() == \
            (tmp_path / f"cut{seed}" / "history.json").read_text()

    checkpoint, calls = batched._checkpoint, []

    def crash_on_second(config, net, *args):
        calls.append(net.seed)
        if len(calls) == 2:
            raise _Stop
        checkpoint(config, net, *args)

    monkeypatch.setattr(batched, "_checkpoint", crash_on_second)
    with pytest.raises(_Stop):
        train_networks(CONVNET, *images, seeds, _dirs(tmp_path, "mid", seeds), "cpu")
    monkeypatch.setattr(batched, "_checkpoint", checkpoint)
    resumed = train_networks(CONVNET, *images, seeds, _dirs(tmp_path, "mid", seeds), "cpu")
    for a, b in zip(full, resumed):
        assert torch.max(torch.abs(_flat(a) - _flat(b))) < 1e-5


def test_bad_input_is_refused_and_nothing_is_overwritten(tmp_path, images):
    config = replace(CONVNET, epochs=1)
    with pytest.raises(ValueError, match="one net_dir per seed"):
        train_networks(config, *images, [0, 1], [tmp_path / "a"], "cpu")
    with pytest.raises(ValueError, match="folder of its own"):
        train_networks(config, *images, [0, 1], [tmp_path / "a", tmp_path / "a"], "cpu")
    with pytest.raises(ValueError, match="architecture"):
        train_networks(replace(config, architecture="vgg"), *images, [0], [tmp_path / "a"], "cpu")
    with pytest.raises(ValueError, match="same n"):
        train_networks(config, images[0], images[1][:5], [0], [tmp_path / "a"], "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            train_networks(config, *images, [0], [tmp_path / "a"], "cuda")
    assert not (tmp_path / "a").exists()

    train_networks(config, *images, [0, 1], _dirs(tmp_path, "net", [0, 1]), "cpu")
    before = {p: p.read_bytes() for p in tmp_path.glob("net*/*")}
    with pytest.raises(ValueError, match=r"different \['lr'\]"):  # net0 is checked after net1: nothing written
        train_networks(replace(config, lr=0.1), *images, [5, 0], [tmp_path / "new", tmp_path / "net0"], "cpu")
    with pytest.raises(ValueError, match=r"different \['seed'\]"):
        train_networks(config, *images, [1, 0], _dirs(tmp_path, "net", [0, 1]), "cpu")
    (tmp_path / "net1" / "state.pt").unlink()  # stopped before its first epoch ended: the initial weights tell
    del before[tmp_path / "net1" / "state.pt"]
    with pytest.raises(ValueError, match="other initial weights"):
        train_networks(config, *images, [2], [tmp_path / "net1"], "cpu")
    assert {p: p.read_bytes() for p in tmp_path.glob("net*/*")} == before and not (tmp_path / "new").exists()


def test_a_batched_run_is_the_same_run_folder(tmp_path, tiny_jpeg):
    """run_experiment(batched=True): the one-at-a-time run's files, recordings within float rounding
    (the images here are channels-last views, as decoded: the dropout masks follow that layout)."""
    from test_pipeline import TINY as PROFILE

    from nnsrm_utils import experiment, record

    runs = {b: experiment.run_experiment("convnet", PROFILE, root=tmp_path / str(b), data_root=tiny_jpeg, batched=b)
            for b in (True, False)}
    files = {b: sorted(str(p.relative_to(run)) for p in run.rglob("*")) for b, run in runs.items()}
    assert files[True] == files[False]
    for net in ("net00", "net01"):
        got, expected = (torch.as_tensor(record.load_activations(runs[b] / net / "activations_epoch001", "logits"))
                         for b in (True, False))
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_bfloat16_only_where_the_gpu_computes_it_natively(monkeypatch):
    """By default a T4 or V100 (compute capability 7.x) trains in float32, an A100 or H100 in
    bfloat16, and the CPU in float32."""
    from nnsrm_utils.batched import _bfloat16_native

    assert not _bfloat16_native(torch.device("cpu"))
    for capability, native in (((7, 5), False), ((7, 0), False), ((8, 0), True), ((9, 0), True)):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None, c=capability: c)
        assert _bfloat16_native(torch.device("cuda")) is native


def test_nnsrm_batched_chooses_the_path_and_refuses_other_values(monkeypatch):
    """$NNSRM_BATCHED overrides the device's default both ways (a notebook's escape from the batched
    path without editing its cells); anything but 0 or 1 is an error, not a silent default."""
    from nnsrm_utils.experiment import BATCHED_ENV, _batched_default

    monkeypatch.delenv(BATCHED_ENV, raising=False)
    assert _batched_default("cuda") is True and _batched_default("cpu") is False
    monkeypatch.setenv(BATCHED_ENV, "0")
    assert _batched_default("cuda") is False
    monkeypatch.setenv(BATCHED_ENV, "1")
    assert _batched_default("cpu") is True
    for value in ("yes", "true", " 1"):
        monkeypatch.setenv(BATCHED_ENV, value)
        with pytest.raises(ValueError, match="NNSRM_BATCHED must be 0 or 1"):
            _batched_default("cuda")
