"""Command line: ``python -m nnsrm_utils run convnet --profile colab --dataset cifar100``.

``python -m nnsrm_utils data`` downloads (when missing) and verifies the quick profile's
CIFAR-10 JPEG copy, or the dataset it names."""
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
    fetch = sub.add_parser("data", help="download a dataset when it is missing, and verify it")
    fetch.add_argument("dataset", nargs="?", choices=sorted(DATASETS), default="cifar10-jpeg")
    fetch.add_argument("--data", default=None, help="data folder (default: $NNSRM_DATA or ~/.cache/nnsrm/data)")
    fetch.add_argument("--url", default=None, help="a mirror of the JPEG copy's archive "
                       "(default: $NNSRM_CIFAR10_JPEG_URL or the pinned commit)")
    args = parser.parse_args(argv)
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
                          progress=True, variant=args.variant)
    print(path)


if __name__ == "__main__":
    main()
