#!/usr/bin/env bash
# One session on a GPU machine without internet, prepared so that a short loan is spent on
# measuring, not on setting up: the GPU benchmarks, then the colab profile end to end
# (benchmarks/paper_scale.py), every output under $OUT (default gpu-out/).
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
# paper_scale needs CIFAR-10 and, without internet, would retry its download at every stage
case "${1:-all}" in all|paper_scale)
  [ -d "$NNSRM_DATA/cifar10-jpeg/train" ] || { echo "no CIFAR-10 JPEG copy: neither $NNSRM_DATA/cifar10-jpeg nor _gpu/cifar10-jpeg.tar.gz" >&2; exit 1; } ;;
esac
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

case "${1:-all}" in
  all)
    step bench_gpu python3 benchmarks/bench_gpu.py --cuda 1
    step bench_train python3 benchmarks/bench_train.py
    step paper_scale python3 benchmarks/paper_scale.py --dataset cifar10-jpeg --out "$OUT/results" ;;
  paper_scale)
    shift; step paper_scale python3 benchmarks/paper_scale.py --dataset cifar10-jpeg --out "$OUT/results" "$@" ;;
  bench_gpu|bench_train)
    name=$1; shift; step "$name" python3 "benchmarks/$name.py" "$@" ;;
  *)
    echo "unknown step $1; one of: all paper_scale bench_gpu bench_train" >&2; exit 2 ;;
esac
