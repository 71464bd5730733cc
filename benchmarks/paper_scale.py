"""A profile end to end, every stage timed: the runs of chapters 5 to 8 and their results artifacts.

Each stage is one run (an architecture and, for the ConvNet, each of the profile's variants):
``run_experiment`` trains and records it (batched on CUDA), and ``results.compute`` makes its
artifact, with the SRM fits and RSMs on the same device, into ``--out/<run name>``.  Every
stage is trained before any is analysed, each time in order of what the book needs most (the
two architectures, then chapter 7's variants).  After every step the session's times so far
are added to ``--out/timing.json`` (one entry per call), so a session cut short keeps what it
finished; called again, trained runs are loaded rather than retrained and finished artifacts
are kept.  A step that fails prints its traceback and the next one runs.
At the end a table gives each stage's training, recording and analysis seconds beside issue
15's targets for one GPU (the ``colab`` profile's 10 ConvNets trained in under 60 s, its 10
ResNet18s in under 3 minutes, everything in under 10 minutes).

    python benchmarks/paper_scale.py --dataset cifar10-jpeg --out results     # colab profile
    python benchmarks/paper_scale.py --profile quick --out /tmp/quick-results  # the same on a CPU
    python benchmarks/paper_scale.py --only convnet resnet18                   # those stages only

Without internet, put the CIFAR-10 JPEG copy where ``$NNSRM_DATA`` points (``cifar10-jpeg/``
holding ``train/`` and ``test/``) and pass ``--dataset cifar10-jpeg``.
"""
import argparse
import json
import time
import traceback
from pathlib import Path

from nnsrm_utils import results
from nnsrm_utils.experiment import TIMING, run_experiment
from nnsrm_utils.profiles import PROFILES, get_profile

#: Issue 15's targets on one H200-class GPU, in seconds.
TARGETS = {"convnet training": 60, "resnet18 training": 180, "total": 600}


def stages(profile):
    """``(architecture, variant)`` in the order the book needs them; variants are the ConvNet's."""
    return [("convnet", None), ("resnet18", None)] + [("convnet", v) for v in profile.variants]


def stage_name(architecture, variant):
    return architecture if variant is None else f"{architecture}:{variant}"


def train_stage(architecture, variant, profile, dataset, device):
    """Train (or load) and record one run: its folder and the seconds of each step."""
    start = time.perf_counter()
    path = run_experiment(architecture, profile, dataset, variant=variant, device=device, progress=False)
    times = {"run": str(path), "run_s": time.perf_counter() - start}
    times |= {k: v for k, v in json.loads((path / TIMING).read_text()).items() if k.endswith("_s")}
    print("   " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items() if k.endswith("_s") and v is not None), flush=True)
    return times


def analyse_stage(architecture, variant, profile, dataset, out, device, run):
    """Write one run's artifact unless it exists: the seconds it took (None when it existed)."""
    target = out / results.artifact_name(architecture, dataset, profile.name, variant)
    if target.exists():
        return {"analysis_s": None}  # made by an earlier call
    start = time.perf_counter()
    artifact = results.compute(run, device=device)
    results.write(artifact, target)
    return {"analysis_s": time.perf_counter() - start,
            "analysis_stages_s": {k: v for k, v in artifact.manifest["wall_time_s"].items()
                                  if k not in ("training", "recording")}}


def report(log, profile, dataset):
    """The table of stages, and the targets where they apply."""
    def cell(x):
        return "     -" if x is None else f"{x:6.0f}"

    print(f"\nprofile {profile.name}, {dataset}; seconds (training and recording summed over resumed sessions)")
    print(f"{'stage':>24} {'train':>6} {'record':>6} {'analyse':>7} {'wall':>6}  status")
    for name, entry in log["stages"].items():
        print(f"{name:>24} {cell(entry.get('training_s'))} {cell(entry.get('recording_s'))} "
              f"{cell(entry.get('analysis_s'))} {cell(entry.get('wall_s'))}  {entry['status']}")
    print(f"{'total':>24} {'':>6} {'':>6} {'':>7} {log['wall_s']:6.0f}")
    if profile.name == "colab":
        for arch in ("convnet", "resnet18"):
            seconds = log["stages"].get(arch, {}).get("training_s")
            print(f"target: {arch} training < {TARGETS[arch + ' training']} s: "
                  f"{'not measured' if seconds is None else f'{seconds:.0f} s'}")
        print(f"target: everything < {TARGETS['total']} s: {log['wall_s']:.0f} s "
              f"({'all stages' if all(e['status'] == 'done' for e in log['stages'].values()) else 'not all stages done'})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="colab")
    parser.add_argument("--dataset", default=None, help="default: the profile's")
    parser.add_argument("--out", default="results", help="where the artifacts and timing.json go")
    parser.add_argument("--device", default=None, help="default: cuda when available, else the CPU (numpy analyses)")
    parser.add_argument("--only", nargs="+", default=None, help="stages to run, e.g. convnet resnet18 convnet:width-2")
    args = parser.parse_args()
    profile = get_profile(args.profile)
    dataset = args.dataset or profile.dataset
    todo = [s for s in stages(profile) if args.only is None or stage_name(*s) in args.only]
    if args.only and len(todo) < len(args.only):
        parser.error(f"unknown stage in {args.only}; the profile's: {[stage_name(*s) for s in stages(profile)]}")
    device = args.device or results.default_device()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sessions = json.loads((out / "timing.json").read_text()) if (out / "timing.json").exists() else []
    log = {"profile": profile.name, "dataset": dataset, "device": device,
           "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "stages": {}, "wall_s": 0.0}
    begin = time.perf_counter()
    # every run trained first: a session cut short during the analyses still has the training times
    for phase in ("trained", "done"):
        for architecture, variant in todo:
            name = stage_name(architecture, variant)
            entry = log["stages"].setdefault(name, {"wall_s": 0.0})
            if entry.get("status", "").startswith("failed"):
                continue  # not trained: nothing to analyse
            print(f"== {name}: {'training and recording' if phase == 'trained' else 'analysis'}", flush=True)
            start = time.perf_counter()
            try:
                if phase == "trained":
                    entry |= train_stage(architecture, variant, profile, dataset, device)
                else:
                    entry |= analyse_stage(architecture, variant, profile, dataset, out, device, entry["run"])
                entry["status"] = phase
            except Exception as err:  # noqa: BLE001 -- report it, go on with the next stage
                traceback.print_exc()
                entry["status"] = f"failed: {type(err).__name__}: {err}"
            entry["wall_s"] += time.perf_counter() - start
            log["wall_s"] = time.perf_counter() - begin
            (out / "timing.json").write_text(json.dumps(sessions + [log], indent=1))
            print(f"   {entry['status']} after {entry['wall_s']:.0f} s", flush=True)
    report(log, profile, dataset)


if __name__ == "__main__":
    main()
