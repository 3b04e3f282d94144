#!/usr/bin/env bash
# kwgan's speed on a lent GPU machine, in one command: benchmarks/speed.py on JAX and torch
# beside the plain PyTorch peer (float32 and mixed_bfloat16, batch 64 and 256) for the
# WGAN-GP paper's DCGAN 64×64, then a 2000-iteration bfloat16 batch-256 JAX run that must
# end without a NaN (the penalty stays float32), then the Fashion-MNIST InfoGAN network
# (float32 and mixed_bfloat16, batch 64) and digits32 and toy (float32, batch 64) if time
# allows.
# Under 8 minutes on an H200; JSON lines on stdout and, with Markdown tables, under $OUT
# (runs/device otherwise).
#
# Targets, to report as measured: kwgan on JAX >= 3x the eager PyTorch peer at batch 64;
# >= 150 TFLOP/s in bfloat16 at batch 256 (dcgan64).
#
# The machine has JAX and PyTorch with CUDA, NumPy, SciPy (JAX needs it), h5py, rich,
# absl-py, ml-dtypes and packaging, but no Keras, namex or optree (nor TensorFlow; kwgan
# trains without scikit-learn, matplotlib and Pillow too). Prepare their wheels once, here,
# in the repository root (.whl/ is ignored, so the call must carry it):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
#     --platform manylinux2014_x86_64 -d .whl keras==3.15.1 namex==0.1.0 optree==0.20.0
# Then the device call: command `bash benchmarks/device.sh`, carry [".whl"], timeout_s 590.
#
#   bash benchmarks/device.sh --smoke   the same steps at tiny sizes, 2 iterations, on the CPU
# PYTHON (default python3) and KWGAN_WHEELS (default .whl) let the smoke run imitate the
# machine with another interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
SMOKE=$([ "${1:-}" = --smoke ] && echo 1 || true)
OUT_DIR=${OUT:-runs/device${SMOKE:+-smoke}}
mkdir -p "$OUT_DIR"

SITE=$(mktemp -d)
trap 'rm -rf "$SITE"' EXIT
$PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target "$SITE" "${KWGAN_WHEELS:-.whl}"/*.whl
export PYTHONPATH=$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
# Rows run one process each: the persistent cache lets the NaN run reuse a compiled step.
export JAX_COMPILATION_CACHE_DIR=${JAX_COMPILATION_CACHE_DIR:-$SITE/jax-cache}
KERAS_BACKEND=jax $PY -c 'import keras; print("keras", keras.__version__, "from", keras.__file__)'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true

if [ -n "$SMOKE" ]; then
  DEVICE=cpu BATCHES=4 ITERS=2 LONG_ITERS=2 SMALL_BATCHES=4 SMALL_ITERS=2 BUDGET=100000
  SIZES=(--dim 4 --image_size 32)
else
  DEVICE=cuda BATCHES=64,256 ITERS=20 LONG_ITERS=2000 SMALL_BATCHES=64 SMALL_ITERS=50
  BUDGET=360  # seconds spent before the small workloads, which take about two minutes
  SIZES=()
fi
speed() {
  # --nopeak: peak.py measures CPU throughput only
  $PY benchmarks/speed.py --device "$DEVICE" --backends jax,torch --skip= --nopeak "${SIZES[@]}" "$@"
}

speed --workloads dcgan64 --precisions float32,mixed_bfloat16 --batch_sizes "$BATCHES" \
  --iterations "$ITERS" --warmup 2 --row_timeout 150 \
  --out "$OUT_DIR/dcgan64.jsonl" --markdown "$OUT_DIR/dcgan64.md"

speed --workloads dcgan64 --backends jax --precisions mixed_bfloat16 \
  --batch_sizes "${BATCHES##*,}" --iterations "$LONG_ITERS" --warmup 1 --peer '' \
  --row_timeout 300 --out "$OUT_DIR/bf16_long.jsonl"
NAN_CHECK=$($PY - "$OUT_DIR/bf16_long.jsonl" <<'EOF'
import json, math, sys
row = json.loads(open(sys.argv[1]).read().splitlines()[-1])
logs = row["last_logs"] or {}
ok = row["it_per_s"] and not row["error"] and all(map(math.isfinite, logs.values()))
print(f"{'PASS' if ok else 'FAIL'}: {row['iterations']} bf16 iterations, last logs {logs}, "
      f"error {row['error']}, timed out {row['timed_out']}")
EOF
) || NAN_CHECK="FAIL: no result"
echo "bf16 NaN check: $NAN_CHECK"

if [ "$SECONDS" -lt "$BUDGET" ]; then
  speed --workloads infogan --precisions float32,mixed_bfloat16 --batch_sizes "$SMALL_BATCHES" \
    --iterations "$SMALL_ITERS" --warmup 2 --row_timeout 60 \
    --out "$OUT_DIR/infogan.jsonl" --markdown "$OUT_DIR/infogan.md"
  speed --workloads digits32,toy --precisions float32 --batch_sizes "$SMALL_BATCHES" \
    --iterations "$SMALL_ITERS" --warmup 2 --row_timeout 60 \
    --out "$OUT_DIR/small.jsonl" --markdown "$OUT_DIR/small.md"
else
  echo "infogan, digits32 and toy left out: ${SECONDS}s spent"
fi

cat "$OUT_DIR"/*.md
$PY - "$OUT_DIR/dcgan64.jsonl" <<'EOF' || true
import json, sys
print("targets: JAX >= 3x the peer at batch 64; >= 150 TFLOP/s in bfloat16 at batch 256")
for row in map(json.loads, open(sys.argv[1])):
    if row["kind"] == "kwgan" and row["backend"] == "jax":
        print(f"  JAX {row['precision']} batch {row['batch_size']}: ratio vs peer "
              f"{row['ratio_vs_peer']}, TFLOP/s {row['tflop_per_s']}")
EOF
echo "bf16 NaN check: $NAN_CHECK"
echo "device.sh done in ${SECONDS}s"
[[ $NAN_CHECK == PASS* ]]
