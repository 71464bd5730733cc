"""Results artifacts (nnsrm_utils.results): the quick ConvNet run's, regenerated from the cached run.

The artifact is computed for two layers and two epochs, with two networks for the chapter 7/8
summaries, so that the file stays fast; its numbers are checked against the live analyses,
it is read back and drawn with every panel function, and broken copies of it are refused.
"""
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nnsrm_utils import analysis, colab, comparison, plotting, results  # noqa: E402
from nnsrm_utils.__main__ import main  # noqa: E402
from nnsrm_utils.experiment import run_experiment  # noqa: E402
from nnsrm_utils.record import sha256  # noqa: E402
from nnsrm_utils.rsm import class_mean_rsm, compare_rsms  # noqa: E402
from nnsrm_utils.stats import bootstrap_ci  # noqa: E402

LAYERS = ("dense", "logits")
N_BOOT = 1000


@pytest.fixture(scope="module")
def run():
    return analysis.read_run(run_experiment("convnet", "quick"))


@pytest.fixture(scope="module")
def epochs(run):
    return [run["epochs"][0], run["epochs"][-1]]


@pytest.fixture(scope="module")
def live(run, epochs):
    """The live analysis the chapters run, of the dense layer: ``("dense", epoch) -> layer_summary``."""
    return {("dense", e): analysis.layer_summary(*analysis.load_layer(run, "dense", e)) for e in epochs}


@pytest.fixture(scope="module")
def artifact(run, epochs, tmp_path_factory):
    res = results.compute(run["path"], layers=LAYERS, epochs=epochs, n_boot=N_BOOT, compare_networks=2,
                          identify_networks=2, match_networks=2, neuron_images=600, neuron_positions=600)
    return results.write(res, tmp_path_factory.mktemp("results") / res.name)


def test_numbers_equal_the_live_analysis(artifact, run, epochs, live):
    res = results.read(artifact)
    n, final = len(run["seeds"]), live["dense", epochs[-1]]
    assert res.layer("variance_explained", "dense").shape == (2, n)
    assert res.layer("class_rsm_w", "dense").shape == (2, 10, 10)
    assert res.layer("trajectory_shared", "dense").shape == (2, n, 2, 10)
    np.testing.assert_allclose(res.layer("variance_explained", "dense")[-1], final["variance_explained"], atol=1e-12)
    np.testing.assert_allclose(res.layer("variance_explained_loo", "dense")[-1], final["variance_explained_loo"],
                               atol=1e-12)
    np.testing.assert_allclose(res.layer("ci_variance_explained", "dense")[-1],
                               bootstrap_ci(final["variance_explained"], n_boot=N_BOOT, random_state=0), atol=1e-12)
    np.testing.assert_allclose(res.layer("class_rsm_shared", "dense")[-1],
                               class_mean_rsm(final["i_rsm_shared"], run["test_labels"]), atol=1e-12)
    settling = [compare_rsms(live["dense", e]["i_rsm_shared"], final["w_rsm"]) for e in epochs]
    np.testing.assert_allclose(res.layer("settling", "dense"), settling, atol=1e-12)
    np.testing.assert_allclose(res.arrays["held_out_accuracy"][-1], analysis.held_out_accuracy(run, epochs[-1]))
    assert res.arrays["train_accuracy"].shape == (n, run["train_config"]["epochs"])
    # the animation's last frame is Fig. 1A (its rotation onto itself is the identity)
    np.testing.assert_allclose(res.layer("trajectory_shared", "dense")[-1],
                               analysis.project_class_means(final["shared"], run["test_labels"]), rtol=1e-5)
    # chapter 5's table, printed from the artifact, is the live one
    table = analysis.before_and_after(live, ["dense"], *epochs, analysis.reference_rsms(run)).splitlines()
    assert results.before_and_after(res).splitlines() == table[:2] + [table[2]] + results.before_and_after(
        res).splitlines()[3:]
    pairs = comparison.pairwise(analysis.load_activity(run, "dense", epochs[-1])[:2], ["linear CKA", "PWCCA"])
    trained = res.summary["comparisons"]["layers"]["dense"]["trained"]
    assert trained["linear CKA"] == pytest.approx(pairs["linear CKA"].tolist(), abs=1e-12)
    assert trained["PWCCA"] == pytest.approx(pairs["PWCCA"].tolist(), abs=1e-12)
    sweep = res.summary["neurons"]["layers"]["dense"]
    assert np.shape(sweep["trained"]) == (1, len(results.EPSILONS)) and np.max(sweep["shuffled"]) < 0.05
    assert os.path.getsize(artifact / results.ARRAYS) < 200_000


def test_neurons_of_the_first_networks_are_those_of_every_network(run):
    """Chapter 8's sweeps recompute only the networks they match."""
    from nnsrm_utils.experiment import load_neurons

    kwargs = {"epoch": run["epochs"][-1], "layers": ["pool1", "dense"], "n_images": 100, "max_positions": 100}
    every = load_neurons(run["path"], **kwargs)
    for n in (2, np.int64(3)):
        first = load_neurons(run["path"], **kwargs, networks=n)
        for layer in kwargs["layers"]:  # pool1: a conv layer's sampled positions are the same too
            assert len(first[layer]) == n
            for a, b in zip(first[layer], every[layer]):
                np.testing.assert_array_equal(a, b)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="networks must be a positive integer"):
            load_neurons(run["path"], **kwargs, networks=bad)


def test_the_geometry_on_a_torch_device_gives_the_numpy_numbers(artifact, run, epochs):
    """``device``: the SRM fits and RSMs on torch tensors (here the CPU's; CUDA runs the same code).  Both
    paths take the large products in the activations' float32, in different orders: float32's rounding.
    In the shared space it is larger: the shared responses W_i^T X_i keep the units' means, so the
    fitted maps' float32 error is multiplied by the uncentred activity."""
    on_torch = results.compute(run["path"], layers=["dense"], epochs=epochs[-1:], n_boot=N_BOOT, compare=False,
                               neurons=False, device="cpu")
    numpy = results.read(artifact)
    assert on_torch.manifest["settings"]["device"] == "cpu" and numpy.manifest["settings"]["device"] is None
    for key in results.LAYER_ARRAYS:
        want = numpy.layer(key, "dense")[-1]
        tolerance = 1e-4 if "shared" in key else 1e-5
        np.testing.assert_allclose(on_torch.layer(key, "dense")[-1], want, rtol=0, atol=tolerance * np.abs(want).max(),
                                   err_msg=key)


def test_a_run_without_recorded_logits_gets_its_accuracy_from_the_checkpoints(run):
    """The ResNet18 records its batch norms, not its logits: its accuracy is recomputed, and
    for the ConvNet, which records both, the two ways agree exactly."""
    from nnsrm_utils.experiment import checkpoint_accuracy

    last = run["epochs"][-1]
    np.testing.assert_array_equal(checkpoint_accuracy(run["path"], last), analysis.held_out_accuracy(run, last))
    resnet = run_experiment("resnet18", "quick")
    res = results.compute(resnet, layers=["bn17"], epochs=[last], n_boot=N_BOOT, compare=False, neurons=False)
    np.testing.assert_array_equal(res.arrays["held_out_accuracy"], [checkpoint_accuracy(resnet, last)])


def test_manifest_records_where_the_numbers_come_from(artifact, run, epochs):
    m = results.read(artifact).manifest
    assert m["schema_version"] == results.SCHEMA_VERSION
    assert (m["profile"], m["dataset_label"], m["variant"]) == ("quick", run["dataset_label"], None)
    assert m["seeds"] == run["seeds"] and m["epochs"] == epochs and m["layers"] == list(LAYERS)
    assert m["hardware"]["cpu_count"] == os.cpu_count() and "torch" in m["hardware"] and "cuda" in m["hardware"]
    assert set(m["wall_time_s"]) == {"training", "recording", "srm", "comparisons", "neurons"}
    timing = json.loads((run["path"] / "timing.json").read_text())  # None for runs begun before times were kept
    assert m["wall_time_s"]["training"] == timing["training_s"] and m["training_devices"] == ["cpu"]
    assert m["settings"]["n_boot"] == N_BOOT and m["settings"]["random_state"] == 0
    root = Path(results.__file__).resolve().parents[1]
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert m["commit"] == (head.stdout.strip() if head.returncode == 0 else None)
    recorded = f"net00/activations_epoch{epochs[-1]:03d}/dense.npy"
    assert m["activations"][recorded] == sha256(run["path"] / recorded)
    assert len(m["activations"]) == len(run["seeds"]) * len(epochs) * len(run["layers"])
    assert results.provenance(results.read(artifact)).startswith("convnet-cifar10-jpeg-quick: profile quick")


def test_every_panel_draws(artifact):
    res = results.read(artifact)
    figures = [*plotting.plot_results_figures(res, "dense", reference={"dense": 0.91}),
               *plotting.plot_results_comparisons(res), plotting.plot_results_matches(res)]
    assert len(figures) == 8
    assert all(f.axes for f in figures)
    assert plotting.animate_results(res, "dense").startswith(b"GIF8")
    for table in (results.comparison_table(res), results.match_table(res)):
        assert "dense" in table and "logits" in table
    plt.close("all")


@pytest.fixture
def copy(artifact, tmp_path):
    return Path(shutil.copytree(artifact, tmp_path / artifact.name))


def test_another_schema_version_is_refused(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "schema_version": results.SCHEMA_VERSION + 1}))
    with pytest.raises(ValueError, match=f"schema version {results.SCHEMA_VERSION + 1}"):
        results.read(copy)


def test_a_flipped_byte_is_refused(copy):
    data = bytearray((copy / results.ARRAYS).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / results.ARRAYS).write_bytes(bytes(data))
    with pytest.raises(ValueError, match="arrays.npz does not match the SHA-256"):
        results.read(copy)


def test_a_changed_or_truncated_manifest_is_refused(copy):
    text = (copy / "manifest.json").read_text()
    (copy / "manifest.json").write_text(text.replace('"profile": "quick"', '"profile": "colab"'))
    with pytest.raises(ValueError, match="does not match its own checksum"):
        results.read(copy)
    (copy / "manifest.json").write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match="not valid JSON"):
        results.read(copy)


def test_a_missing_file_is_refused(copy):
    (copy / results.SUMMARY).unlink()
    with pytest.raises(ValueError, match="missing summary.json"):
        results.read(copy)


def test_writing_never_overwrites_silently(artifact, copy):
    res = results.read(artifact)
    before = (copy / results.ARRAYS).read_bytes()
    with pytest.raises(ValueError, match="exists; pass overwrite=True"):
        results.write(res, copy)
    assert (copy / results.ARRAYS).read_bytes() == before
    res.arrays["held_out_accuracy"] = res.arrays["held_out_accuracy"] * 0
    results.write(res, copy, overwrite=True)
    assert not results.read(copy).arrays["held_out_accuracy"].any()
    assert sorted(p.name for p in copy.parent.iterdir()) == [copy.name]  # no temporary folders left


def test_the_command_refuses_before_computing(artifact, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["analyse", "convnet", "--profile", "quick", "--out", str(artifact)])
    assert "exists; pass --overwrite" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["analyse", "convnet", "--profile", "quick", "--runs", str(tmp_path), "--out", str(tmp_path / "new")])
    assert "is not a run folder" in capsys.readouterr().err and not (tmp_path / "new").exists()


def test_a_missing_book_artifact_says_how_to_make_it(tmp_path):
    assert results.book_results("convnet", "colab", start=tmp_path) is None
    (tmp_path / "book" / "results").mkdir(parents=True)
    assert results.book_results("convnet", "colab", start=tmp_path / "notebooks") is None
    assert results.default_dir("convnet", "cifar10", "colab", start=tmp_path) == \
        tmp_path / "book" / "results" / "convnet-cifar10-colab"
    assert "not in a clone of the book's repository" in results.absent("resnet18", "colab", start=tmp_path / "other" / "x")
    message = results.absent("resnet18", "colab", start=tmp_path)
    assert "needs a GPU" in message and "python -m nnsrm_utils run resnet18 --profile colab" in message
    assert "python -m nnsrm_utils analyse resnet18 --profile colab" in message


def test_the_book_falls_back_to_the_jpeg_copys_artifact(artifact, tmp_path):
    """A GPU machine without internet trains the colab profile on the CIFAR-10 JPEG copy; the
    canonical dataset's artifact is preferred where both are committed."""
    book = tmp_path / "book" / "results"
    shutil.copytree(artifact, book / "convnet-cifar10-jpeg-colab")
    found = results.book_results("convnet", "colab", start=tmp_path)
    assert found is not None and "JPEG" in found.manifest["dataset_label"]
    assert results.book_results("convnet", "colab", "cifar10", start=tmp_path) is None
    shutil.copytree(artifact, book / "convnet-cifar10-colab")
    (book / "convnet-cifar10-jpeg-colab" / results.ARRAYS).write_bytes(b"")  # would be an error if read
    assert results.book_results("convnet", "colab", start=tmp_path) is not None


# ---- Colab: runs on Google Drive ----------------------------------------------------------------

def test_runs_stay_local_unless_asked_and_on_colab(monkeypatch):
    monkeypatch.setenv("NNSRM_RUNS", "local")
    assert colab.keep_runs_on_drive(False) is None
    with pytest.warns(UserWarning, match="Google Colab only"):
        assert colab.keep_runs_on_drive(True) is None
    assert os.environ["NNSRM_RUNS"] == "local"
    for bad in ("yes", 1):
        with pytest.raises(ValueError, match="True or False"):
            colab.keep_runs_on_drive(bad)
    with pytest.raises(ValueError, match="inside My Drive"):
        colab.keep_runs_on_drive(True, "../elsewhere")


def test_on_colab_runs_go_to_the_mounted_drive(monkeypatch, tmp_path):
    mounted = []
    drive = types.SimpleNamespace(mount=mounted.append)
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", types.SimpleNamespace(drive=drive))
    monkeypatch.setattr(colab, "MOUNT_POINT", str(tmp_path))
    monkeypatch.setenv("NNSRM_RUNS", "local")
    path = colab.keep_runs_on_drive(True)
    assert mounted == [str(tmp_path)] and path == tmp_path / "MyDrive" / "nnsrm" / "runs" and path.is_dir()
    assert os.environ["NNSRM_RUNS"] == str(path)


def test_compute_refuses_bad_choices(run):
    with pytest.raises(ValueError, match=r"layers \['conv9'\] not recorded"):
        results.compute(run["path"], layers=["conv9"])
    with pytest.raises(ValueError, match="epochs .* not recorded"):
        results.compute(run["path"], epochs=[99])
    with pytest.raises(ValueError, match="n_boot must be a positive integer"):
        results.compute(run["path"], n_boot=0)
    with pytest.raises(ValueError, match="compare_networks must be an integer >= 2"):
        results.compute(run["path"], compare_networks=1)
