#!/usr/bin/env bash
# On the GPU machine: a virtualenv over its own Python (its torch, transformers, peft, sacrebleu),
# the carried wheels (.gpu-wheels/, from scripts/gpu-wheels.mjs) installed in it, then the checks.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${SPARSE_SUB_GPU_PYTHON:-python3}"
venv="${TMPDIR:-/tmp}/sparse-sub-gpu-venv"
"$python" -m venv --system-site-packages "$venv"
if [ -d .gpu-wheels ]; then
  "$venv/bin/python" -m pip install --no-index --find-links .gpu-wheels --no-deps -q .gpu-wheels/*.whl
fi
exec "$venv/bin/python" bench/gpu_check.py "$@"
