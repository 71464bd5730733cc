"""Command line: ``python -m nnsrm_utils run convnet --profile colab --dataset cifar100``."""
import argparse

from .data import DATASETS
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
    args = parser.parse_args(argv)
    from .experiment import run_experiment

    path = run_experiment(args.architecture, args.profile, args.dataset, args.runs, args.data, args.device,
                          progress=True, variant=args.variant)
    print(path)


if __name__ == "__main__":
    main()
