"""Command line: ``python -m nnsrm_utils run convnet --profile colab --dataset cifar100``.

``python -m nnsrm_utils data`` downloads (when missing) and verifies the quick profile's
CIFAR-10 JPEG copy, or the dataset it names; ``python -m nnsrm_utils analyse convnet --profile colab``
turns a trained run into its results artifact (:mod:`nnsrm_utils.results`)."""
import argparse

from .data import DATASETS, data_root, load_images
from .fetch import ContentMismatch
from .profiles import PROFILES


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nnsrm_utils", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train the networks of a profile and record their activations")
    run.add_argument("architecture", choices=["convnet", "resnet18"])
    run.add_argument("--profile", choices=sorted(PROFILES), default=None, help="default: $NNSRM_PROFILE or quick")
    run.add_argument("--dataset", choices=sorted(DATASETS), default=None, help="default: the profile's")
    run.add_argument("--runs", default=None, help="runs folder (default: $NNSRM_RUNS or ~/.cache/nnsrm/runs)")
    run.add_argument("--data", default=None, help="data folder (default: $NNSRM_DATA or ~/.cache/nnsrm/data)")
    run.add_argument("--device", default=None, help="e.g. cuda or cpu (default: cuda when available)")
    run.add_argument("--variant", default=None, help="one of the profile's variants, e.g. random-labels (ConvNet)")
    run.add_argument("--batched", action=argparse.BooleanOptionalAction, default=None,
                     help="train the networks all at once as one model (default: $NNSRM_BATCHED, else on CUDA only)")
    fetch = sub.add_parser("data", help="download a dataset when it is missing, and verify it")
    fetch.add_argument("dataset", nargs="?", choices=sorted(DATASETS), default="cifar10-jpeg")
    fetch.add_argument("--data", default=None, help="data folder (default: $NNSRM_DATA or ~/.cache/nnsrm/data)")
    fetch.add_argument("--url", default=None, help="a mirror of the JPEG copy's archive "
                       "(default: $NNSRM_CIFAR10_JPEG_URL or the pinned commit)")
    _add_analyse(sub)
    args = parser.parse_args(argv)
    if args.command == "analyse":
        return _analyse(parser, args)
    if args.command == "data":
        try:
            images = load_images(args.dataset, args.data, url=args.url)
        except (OSError, ContentMismatch, ValueError) as err:  # each says what to do
            parser.exit(1, f"error: {err}\n")
        print(f"{images.label}: {len(images.x_train):,} training and {len(images.x_test):,} test images "
              f"in {data_root(args.data)}")
        return
    from .experiment import run_experiment

    path = run_experiment(args.architecture, args.profile, args.dataset, args.runs, args.data, args.device,
                          progress=True, variant=args.variant, batched=args.batched)
    print(path)


def _add_analyse(sub):
    analyse = sub.add_parser("analyse", help="turn a trained run into its small results artifact (book/results)")
    analyse.add_argument("architecture", choices=["convnet", "resnet18"])
    analyse.add_argument("--profile", choices=sorted(PROFILES), default=None, help="default: $NNSRM_PROFILE or quick")
    analyse.add_argument("--dataset", choices=sorted(DATASETS), default=None, help="default: the profile's")
    analyse.add_argument("--variant", default=None, help="one of the profile's variants, e.g. random-labels (ConvNet)")
    analyse.add_argument("--runs", default=None, help="runs folder (default: $NNSRM_RUNS or ~/.cache/nnsrm/runs)")
    analyse.add_argument("--out", default=None, help="artifact folder (default: book/results/<run name> of the "
                         "checkout in the current folder or its parent, else ./results/<run name>)")
    analyse.add_argument("--overwrite", action="store_true", help="replace an existing artifact")
    analyse.add_argument("--device", default=None, help="where the SRM fits and RSMs run and chapter 8's neurons "
                         "are recomputed, e.g. cuda (default: cuda when available, else numpy on the CPU)")
    analyse.add_argument("--no-neurons", dest="neurons", action="store_false",
                         help="leave out chapter 8's neuron matches (they rerun the networks)")


def _analyse(parser, args):
    """``analyse``: the run's artifact, written where nothing is overwritten unless asked."""
    from pathlib import Path

    from . import results
    from .experiment import run_path
    from .profiles import get_profile

    profile = get_profile(args.profile)
    dataset = args.dataset or profile.dataset
    run = run_path(args.architecture, profile.name, dataset, args.runs, args.variant)
    out = args.out or results.default_dir(args.architecture, dataset, profile.name, args.variant)
    try:
        if Path(out).exists() and not args.overwrite:  # before hours of analysis, not after
            raise ValueError(f"{out} exists; pass --overwrite to replace it")
        artifact = results.compute(run, neurons=args.neurons, device=args.device or results.default_device())
        print(results.write(artifact, out, overwrite=args.overwrite))
    except ValueError as err:  # each says what is wrong (no run yet, an artifact in the way)
        parser.exit(1, f"error: {err}\n")


if __name__ == "__main__":
    main()
