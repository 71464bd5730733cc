"""End to end on tiny data: profile -> train -> record -> analyse, and resume."""

from dataclasses import replace

import numpy as np
import pytest

from conftest import pin_jpeg_copy
from nnsrm_utils import analysis, data, experiment
from nnsrm_utils.profiles import PROFILES, Profile, Variant, get_profile
from nnsrm_utils.train import TrainConfig

TINY = Profile("tiny", "cifar10-jpeg", n_networks=2, train_subset=None, n_fit=12, n_test=8, max_units=20,
               convnet=TrainConfig("convnet", epochs=1, logged_epochs=(0, 1), batch_size=16),
               resnet18=TrainConfig("resnet18", model_kwargs={"width": 4}, epochs=1, logged_epochs=(0, 1)),
               variants={"narrow": Variant(width=0.25), "random": Variant(random_labels=True, train_subset=20, epochs=2)})


@pytest.fixture(scope="module")
def tiny_jpeg(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for split, n in (("train", 16), ("test", 10)):
        for c, cls in enumerate(("airplane", "cat")):
            (root / "cifar10-jpeg" / split / cls).mkdir(parents=True)
            for i in range(n):
                img = rng.integers(0, 100, (32, 32, 3)) + 120 * c  # classes differ in brightness
                Image.fromarray(img.astype(np.uint8)).save(root / "cifar10-jpeg" / split / cls / f"{i:04d}.jpg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))  # memos and decoded arrays
        pin_jpeg_copy(mp, root)
        yield root


@pytest.fixture(scope="module")
def tiny_run(tiny_jpeg, tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    return experiment.run_experiment("convnet", TINY, root=runs, data_root=tiny_jpeg), runs


def test_run_folder_and_manifest(tiny_run):
    path, _ = tiny_run
    run = analysis.read_run(path)
    assert run["dataset_label"] == "CIFAR-10 (JPEG copy)" and run["seeds"] == [0, 1]
    assert run["layers"] == ["pool1", "pool2", "dense", "logits"] and run["epochs"] == [0, 1]
    assert list(run["test_labels"]) == sorted(run["test_labels"])
    assert "torch" in run["versions"]


def test_layers_load_zscored_and_analyse(tiny_run):
    run = analysis.read_run(tiny_run[0])
    fit, test = analysis.load_layer(run, "pool1", 1)
    assert [x.shape for x in fit] == [(20, 12)] * 2 and [x.shape for x in test] == [(20, 8)] * 2
    np.testing.assert_allclose(test[0].mean(axis=0), 0, atol=1e-5)
    assert test[0].base is None  # a copy: a summary keeping it does not keep the fit images alive
    summary = analysis.layer_summary(*analysis.load_layer(run, "logits", 1))
    assert summary["w_rsm"].shape == (8, 8) and summary["variance_explained"].shape == (2,)
    assert np.all(summary["variance_explained"] <= 1)
    small = analysis.layer_summary(*analysis.load_layer(run, "logits", 1), activity=False)
    assert set(summary) - set(small) == {"native", "shared"}
    np.testing.assert_array_equal(small["i_rsm_shared"], summary["i_rsm_shared"])
    # the chapters' table reads a run folder as well as its manifest (and its SRM then finds this
    # tiny run's 12 fit images too few for 20 units)
    with pytest.raises(ValueError, match="too few examples"):
        analysis.format_shared_agreement(tiny_run[0], 0, 1)
    with pytest.raises(ValueError, match="at least two networks"):
        analysis.per_network_mean_pairwise(test[:1])


def test_rerun_resumes_without_retraining(tiny_run, tiny_jpeg):
    path, runs = tiny_run
    stamp = (path / "net00" / "epoch_001.pt").stat().st_mtime_ns
    assert experiment.run_experiment("convnet", TINY, root=runs, data_root=tiny_jpeg) == path
    assert (path / "net00" / "epoch_001.pt").stat().st_mtime_ns == stamp


def test_wall_times_are_summed_over_sessions(tiny_run, tiny_jpeg, tmp_path):
    import json
    import shutil

    path, runs = tiny_run
    timing = json.loads((path / experiment.TIMING).read_text())
    assert timing["training_s"] > 0 and timing["recording_s"] > 0 and timing["devices"] == ["cpu"]
    experiment.run_experiment("convnet", TINY, root=runs, data_root=tiny_jpeg)  # nothing left to do
    again = json.loads((path / experiment.TIMING).read_text())
    assert again["training_s"] - timing["training_s"] < 1
    # a run begun before times were kept has none, rather than only the last session's
    old = tmp_path / path.name
    shutil.copytree(path, old)
    (old / experiment.TIMING).unlink()
    experiment.run_experiment("convnet", TINY, root=tmp_path, data_root=tiny_jpeg)
    assert json.loads((old / experiment.TIMING).read_text())["training_s"] is None


def test_a_run_being_trained_elsewhere_is_waited_for_then_loaded(tiny_run, tiny_jpeg, tmp_path, capsys):
    """While another process on this machine holds a run (a second notebook), asking for it says
    so and waits, then loads what that process trained rather than training it alongside."""
    import shutil
    import time
    from concurrent.futures import ThreadPoolExecutor

    pytest.importorskip("fcntl")
    path = experiment.run_path("convnet", TINY.name, TINY.dataset, tmp_path)
    path.mkdir(parents=True)
    with ThreadPoolExecutor(1) as pool:
        with experiment._locked(path):
            asked = pool.submit(experiment.run_experiment, "convnet", TINY, root=tmp_path, data_root=tiny_jpeg)
            said, deadline = "", time.monotonic() + 60
            while "another process is using this run" not in said and not asked.done() and time.monotonic() < deadline:
                time.sleep(0.1)
                said += capsys.readouterr().out
            if asked.done():
                asked.result()  # raises what went wrong in the asker, if anything did
            assert "another process is using this run" in said and not asked.done()
            # meanwhile the holder trains the run: a copy of one trained before
            shutil.copytree(tiny_run[0], path, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".lock"))
            stamp = (path / "net01" / "epoch_001.pt").stat().st_mtime_ns
        assert asked.result(timeout=60) == path
    assert (path / "net01" / "epoch_001.pt").stat().st_mtime_ns == stamp


def test_a_file_system_without_locks_still_trains(tiny_jpeg, tmp_path, monkeypatch):
    import errno

    fcntl = pytest.importorskip("fcntl")

    def refuse(*args):
        raise OSError(errno.ENOLCK, "no locks here")

    monkeypatch.setattr(fcntl, "flock", refuse)
    path = experiment.run_experiment("convnet", TINY, root=tmp_path, data_root=tiny_jpeg)
    assert (path / "net01" / "activations_epoch001" / "manifest.json").exists()


def test_changed_configuration_is_refused(tiny_run, tiny_jpeg):
    path, runs = tiny_run

    other = replace(TINY, convnet=replace(TINY.convnet, lr=1.0))
    with pytest.raises(ValueError, match="different"):
        experiment.run_experiment("convnet", other, root=runs, data_root=tiny_jpeg)


def test_run_from_before_a_variant_field_existed_is_resumed(tiny_run, tiny_jpeg):
    """A manifest written before ``Variant.seed`` existed describes the same run (the field's
    default), so a reader's cached runs stay usable."""
    import json

    path, runs = tiny_run
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["variant_config"]["seed"]
    (path / "manifest.json").write_text(json.dumps(manifest))
    assert experiment.run_experiment("convnet", TINY, root=runs, data_root=tiny_jpeg) == path


def test_profiles_switch(monkeypatch):
    monkeypatch.delenv("NNSRM_PROFILE", raising=False)
    assert get_profile().name == "quick"
    monkeypatch.setenv("NNSRM_PROFILE", "paper")
    paper = get_profile()
    assert paper.convnet.epochs == 50 and paper.convnet.lr == 1e-4 and paper.n_networks == 10
    assert paper.resnet18.logged_epochs[-1] == 100 and paper.resnet18.augment
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("huge")
    assert set(PROFILES) == {"quick", "colab", "paper"}


def test_cli_help(capsys):
    from nnsrm_utils.__main__ import main

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "--profile" in capsys.readouterr().out


def test_variants_get_their_own_runs(tiny_run, tiny_jpeg, monkeypatch):
    _, runs = tiny_run
    seen = {}

    def spy(config, x, y, seed, net_dir, *args, **kwargs):
        seen.setdefault(net_dir.parent.name, (config, np.asarray(y)))
        return real(config, x, y, seed, net_dir, *args, **kwargs)

    from nnsrm_utils import train
    real = train.train_network
    monkeypatch.setattr(train, "train_network", spy)
    narrow = experiment.run_experiment("convnet", TINY, root=runs, data_root=tiny_jpeg, variant="narrow")
    random = experiment.run_experiment("convnet", TINY, root=runs, data_root=tiny_jpeg, variant="random")
    assert narrow.name.endswith("-tiny-narrow") and random.name.endswith("-tiny-random")
    config, _ = seen[narrow.name]
    assert config.model_kwargs["width"] == 0.25 and config.logged_epochs == (0, 1)
    assert train.load_weights(config, narrow / "net00", 1).dense[-1].out_features == 128
    config, y = seen[random.name]
    assert config.epochs == 2 and config.logged_epochs == (0, 2)
    images = data.load_images("cifar10-jpeg", root=tiny_jpeg)
    true = images.y_train[data.stratified_subset(images.y_train, 20)]
    assert sorted(y) == sorted(true) and np.any(y != true)  # the same labels, shuffled
    assert analysis.read_run(random)["variant_config"]["random_labels"]


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="no variant"):
        TINY.train_config("convnet", 10, "wide")
    with pytest.raises(ValueError, match="ConvNet only"):
        TINY.train_config("resnet18", 10, "narrow")


def test_progress_bar_only_where_someone_watches(monkeypatch):
    import sys
    import types

    from nnsrm_utils._progress import progress_bar

    assert progress_bar(10, "x", None).disable  # pytest's captured stderr: not a terminal, not Colab
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    with progress_bar(10, "x", None) as bar:
        assert not bar.disable and bar.total == 10
    assert progress_bar(10, "x", False).disable
    # a silent bar must not import tqdm.auto: in a notebook kernel without ipywidgets that
    # prints a warning on stderr, which fails the book build
    import subprocess

    code = ("import sys; from nnsrm_utils._progress import progress_bar; progress_bar(3, 'x', False).update(1); "
            "print(sorted(m for m in sys.modules if m.startswith(('tqdm.auto', 'tqdm.notebook'))))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_training_activity_is_the_recording_on_the_training_images(tiny_run, tiny_jpeg):
    """Morcos et al. compared networks on their training images: recomputed from the checkpoints,
    with the units the recordings kept, and with the labels the networks were trained on."""
    from nnsrm_utils import record, train

    path, runs = tiny_run
    activity, labels = experiment.training_activity(path, 1, data_root=tiny_jpeg)
    run = analysis.read_run(path)
    assert set(activity) == set(run["layers"]) and len(activity["pool1"]) == 2
    assert [x.shape for x in activity["pool1"]] == [(20, 32)] * 2 and activity["logits"][0].shape == (2, 32)
    images = data.load_images("cifar10-jpeg", root=tiny_jpeg)
    np.testing.assert_array_equal(labels, images.y_train)
    few, few_labels = experiment.training_activity(path, 1, n_images=4, data_root=tiny_jpeg)
    assert few["dense"][0].shape[1] == 4 and sorted(few_labels) == [0, 0, 1, 1]  # stratified, not the first 4
    # the same function of the same weights as the recording: on the analysis images it gives the recording
    config = train.TrainConfig(**run["train_config"])
    model = train.load_weights(config, path / "net01", 1)
    x = data.preprocess(images, images.x_test[run["analysis_indices"]])
    again = record.layer_outputs(model, model.analysed_layers, x, max_units=run["max_units"], unit_seed=run["seeds"][1])
    for layer in run["layers"]:
        np.testing.assert_allclose(again[layer], analysis.load_activity(run, layer, 1)[1], rtol=1e-5, atol=1e-6)
    random = experiment.run_experiment("convnet", TINY, root=runs, data_root=tiny_jpeg, variant="random")
    _, shuffled_labels = experiment.training_activity(random, 2, data_root=tiny_jpeg)
    true = images.y_train[data.stratified_subset(images.y_train, 20)]
    assert sorted(shuffled_labels) == sorted(true) and np.any(shuffled_labels != true)


def test_training_activity_labels_are_those_trained_on_for_a_variant_with_its_own_seeds(tiny_jpeg, tmp_path,
                                                                                        monkeypatch):
    from nnsrm_utils import train

    trained_with = []
    original = train.train_network
    monkeypatch.setattr(train, "train_network", lambda config, x, y, *args, **kwargs:
                        trained_with.append(y) or original(config, x, y, *args, **kwargs))
    seeded = replace(TINY, variants={"random": Variant(random_labels=True, train_subset=20, epochs=1, seed=7)})
    path = experiment.run_experiment("convnet", seeded, root=tmp_path, data_root=tiny_jpeg, variant="random")
    _, labels = experiment.training_activity(path, 1, data_root=tiny_jpeg)
    assert len(trained_with) == 2
    np.testing.assert_array_equal(labels, trained_with[0])  # n_images=None keeps every image, in order


def test_rsms_in_both_spaces_are_of_one_kind_of_activity(rng):
    """Rotated copies of one uncentred response: with cosine RSMs (rotation-invariant) the shared iRSM
    is the wRSM exactly, kept uncentred or centred on both sides, but not centred on one side only."""
    from nnsrm_utils.rsm import compare_rsms
    from nnsrm_utils.transforms import random_orthogonal

    s = rng.standard_normal((6, 60)) + 3 * rng.standard_normal((6, 1))   # units with large means
    copies = [random_orthogonal(6, i) @ s for i in range(3)]
    fit, test = [x[:, :40] for x in copies], [x[:, 40:] for x in copies]
    summary = analysis.layer_summary(fit, test, "cosine", activity=False)
    np.testing.assert_allclose(summary["i_rsm_shared"], summary["w_rsm"], atol=1e-8)
    exact = analysis.shared_agreement(fit, test, "cosine")
    for key in ("as recorded", "common mean", "both centred"):
        assert exact[key] == pytest.approx(1, abs=1e-9), key
    assert exact["shared side centred"] < 0.9
    noisy = [x + 0.5 * rng.standard_normal(x.shape) + rng.standard_normal((6, 1)) for x in copies]   # own offsets
    fit, test = [x[:, :40] for x in noisy], [x[:, 40:] for x in noisy]
    summary = analysis.layer_summary(fit, test, activity=False)
    assert analysis.shared_agreement(fit, test)["as recorded"] == pytest.approx(
        compare_rsms(summary["i_rsm_shared"], summary["w_rsm"]), abs=1e-10)
