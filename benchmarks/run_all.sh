#!/usr/bin/env bash
# Every speed number in the README, on the current machine: one JSON line each.
#   bash benchmarks/run_all.sh [PEER]   (PEER: path of torch_wgangp_dcgan64.py, optional)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
for backend in tensorflow jax torch; do
  KERAS_BACKEND=$backend $PY benchmarks/toy_speed.py --iterations 40 2>/dev/null | tail -1
done
for backend in tensorflow jax torch; do
  KERAS_BACKEND=$backend $PY benchmarks/image_speed.py --arch cifar-dcgan --image_size 32 \
    --channels 1 --dim 32 --iterations 10 2>/dev/null | tail -1
done
for backend in tensorflow torch; do   # XLA:CPU needs minutes per iteration here
  KERAS_BACKEND=$backend $PY benchmarks/image_speed.py --iterations 3 --warmup 1 2>/dev/null | tail -1
done
if [ -n "${1:-}" ]; then
  $PY "$1" --device cpu --iters 3 --warmup 1 | tail -1
fi
