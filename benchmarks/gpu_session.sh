#!/usr/bin/env bash
# One session on a GPU machine without internet, prepared so that a short loan is spent on
# measuring, not on setting up: the colab profile end to end (benchmarks/paper_scale.py), then
# the GPU benchmarks, every output under $OUT (default gpu-out/).  All of it takes longer than
# one 10-minute command of a loan: there, run the steps as separate commands (benchmarks/README.md).
#
# Before: pack the CIFAR-10 JPEG copy (cifar10-jpeg/{train,test}) as _gpu/cifar10-jpeg.tar.gz
# (git-ignored; about 20 MB), e.g. `tar czf _gpu/cifar10-jpeg.tar.gz -C ../shared/data cifar10-jpeg`.
# The machine's python3 needs torch, torchvision, numpy, scipy, scikit-learn, matplotlib and
# tqdm; the package is used from the checkout (PYTHONPATH), nothing is installed.
#
#   OUT=/somewhere bash benchmarks/gpu_session.sh            # everything, in order of value
#   bash benchmarks/gpu_session.sh paper_scale --only convnet # one step, with its arguments
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
# unbuffered, so that a step killed at the call's time limit still leaves what it printed
export PYTHONPATH=$PWD NNSRM_RUNS=${NNSRM_RUNS:-$PWD/_runs} NNSRM_DATA=${NNSRM_DATA:-$PWD/_gpu/data} PYTHONUNBUFFERED=1
if [ ! -d "$NNSRM_DATA/cifar10-jpeg" ] && [ -f _gpu/cifar10-jpeg.tar.gz ]; then
  mkdir -p "$NNSRM_DATA" && tar xzf _gpu/cifar10-jpeg.tar.gz -C "$NNSRM_DATA"
fi
python3 - <<'EOF' | tee "$OUT/machine.txt"
import os, torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}, {os.cpu_count()} CPU cores")
EOF

step() {  # a step's output to $OUT/<name>.txt and the screen; a failing step does not stop the next
  local name=$1; shift
  echo "== $name: $*"
  local start=$SECONDS
  "$@" 2>&1 | tee "$OUT/$name.txt"
  echo "== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start)) s" | tee -a "$OUT/steps.txt"
}

paper_scale() {  # needs CIFAR-10: without internet it would retry the download at every stage
  if [ ! -d "$NNSRM_DATA/cifar10-jpeg/train" ]; then
    echo "paper_scale skipped: no CIFAR-10 JPEG copy in $NNSRM_DATA/cifar10-jpeg and no _gpu/cifar10-jpeg.tar.gz" >&2
    return 1
  fi
  step paper_scale python3 benchmarks/paper_scale.py --dataset cifar10-jpeg --out "$OUT/results" "$@"
}

case "${1:-all}" in
  all)
    paper_scale
    step bench_train python3 benchmarks/bench_train.py
    step bench_gpu python3 benchmarks/bench_gpu.py --cuda 1 ;;
  paper_scale)
    shift; paper_scale "$@" ;;
  bench_gpu|bench_train)
    name=$1; shift; step "$name" python3 "benchmarks/$name.py" "$@" ;;
  *)
    echo "unknown step $1; one of: all paper_scale bench_gpu bench_train" >&2; exit 2 ;;
esac
