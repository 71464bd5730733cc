"""Training throughput: the networks of a run trained as one batched model, against one at a time.

The same networks (seeds 0, 1, ...), the same configuration (a profile's, for ``--epochs``
epochs on ``--images`` random images; logged epochs 0 and the last, checkpoints written by both
sides), on the same device: ``nnsrm_utils.batched.train_networks`` against
``nnsrm_utils.train.train_network`` called once per seed.  Prints images per second (images x
epochs x networks / seconds) of each and their ratio, and how far apart the two paths' final
weights are (relative to the distance they moved from their initialisation) and their final
training losses.  On the CPU the two should agree to rounding; on CUDA the batched path computes
in bfloat16 and draws other dropout masks, so only the losses are comparable.

Defaults: on CUDA the ``colab`` profile (10 networks, all 50,000 images), after a short
warm-up of both paths; on the CPU the ``quick`` profile (4 networks, 512 images), a minute or
two.  On the CPU batching is not expected to pay: the CPU's cores are already busy with one
network's convolutions, and the batched path adds copies (stacking the batches, masks drawn per
network); it exists for the GPU, where one small network leaves the device idle between launches.

    python benchmarks/bench_train.py
    python benchmarks/bench_train.py --architecture resnet18 --networks 2 --images 512
"""
import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import torch
from timing import best_of

from nnsrm_utils.batched import train_networks
from nnsrm_utils.profiles import get_profile
from nnsrm_utils.train import load_weights, train_network


def arguments():
    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--architecture", choices=["convnet", "resnet18"], default="convnet")
    parser.add_argument("--profile", choices=["quick", "colab", "paper"], default="colab" if cuda else "quick")
    parser.add_argument("--device", default="cuda" if cuda else "cpu")
    parser.add_argument("--networks", type=int, default=10 if cuda else 4)
    parser.add_argument("--images", type=int, default=50_000 if cuda else 512)
    parser.add_argument("--epochs", type=int, default=1)
    return parser.parse_args()


def _flat(model):
    return torch.cat([v.detach().flatten().float().cpu() for v in model.state_dict().values()
                      if v.dtype.is_floating_point])


def _apart(a, b, init):
    """How far apart two trained networks are, relative to how far the first moved from ``init``."""
    return float(torch.linalg.norm(_flat(a) - _flat(b)) / torch.linalg.norm(_flat(a) - _flat(init)))


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def one_at_a_time(config, x, y, seeds, root, device):
    models = [train_network(config, x, y, seed, f"{root}/single{seed}", device) for seed in seeds]
    _sync(device)
    return models


def batched(config, x, y, seeds, root, device):
    models = train_networks(config, x, y, seeds, [f"{root}/batched{seed}" for seed in seeds], device)
    _sync(device)
    return models


def main():
    args = arguments()
    profile = get_profile(args.profile)
    config = replace(profile.train_config(args.architecture, 10), epochs=args.epochs, logged_epochs=(0, args.epochs))
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(args.images, 3, 32, 32, generator=g), torch.randint(0, 10, (args.images,), generator=g)
    seeds = list(range(args.networks))
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"{args.networks} x {args.architecture} ({args.profile} profile: batch {config.batch_size}, "
          f"{config.model_kwargs or 'full width'}{', augmented' if config.augment else ''}), {args.images} random "
          f"images x {args.epochs} epoch(s), on {name}")
    with tempfile.TemporaryDirectory() as root:
        if device.type == "cuda":  # cuDNN's and autocast's first calls, outside the timings
            warm = replace(config, epochs=1, logged_epochs=())
            n = 4 * config.batch_size
            one_at_a_time(warm, x[:n], y[:n], seeds[:1], f"{root}/warm", device)
            batched(warm, x[:n], y[:n], seeds, f"{root}/warm", device)
        singles, t_single = best_of(lambda: one_at_a_time(config, x, y, seeds, root, device))
        stacked, t_batched = best_of(lambda: batched(config, x, y, seeds, root, device))
        rate = args.networks * args.images * args.epochs
        print(f"one at a time {t_single:7.1f} s  {rate / t_single:8.0f} images/s")
        print(f"batched       {t_batched:7.1f} s  {rate / t_batched:8.0f} images/s   "
              f"speed-up {t_single / t_batched:.2f}x")
        apart = max(_apart(a, b, load_weights(config, f"{root}/single{seed}", 0))
                    for seed, a, b in zip(seeds, singles, stacked))
        final = [sum(json.loads(Path(root, f"{kind}{seed}", "history.json").read_text())[-1]["loss"]
                     for seed in seeds) / len(seeds) for kind in ("single", "batched")]
        print(f"final weights apart (relative to the distance moved): {apart:.1e}; mean final training loss "
              f"{final[0]:.4f} one at a time, {final[1]:.4f} batched")


if __name__ == "__main__":
    main()
