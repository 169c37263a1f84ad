#!/usr/bin/env bash
# Rebuilds checkpoints/demo/ from scratch on CPU: trains the demo generator on the phantom dataset, then
# exports its EMA weights + config + a sample grid. Usage: checkpoints/demo/reproduce.sh [WORKSPACE]
set -euo pipefail
cd "$(dirname "$0")/../.."
export MEDGAN_HOME="${1:-${MEDGAN_HOME:-workspace}}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
RESULT=$(python -m medgan train --dataset demo-phantom --arch progan --conditional --resolution 64 \
  --width 16 --batch-size 32 --steps 2100 --grow-steps 1600 --sample-every 100 --checkpoint-every 100 --seed 0 --json | tail -n 1)
RUN_ID=$(python -c 'import json, sys; print(json.loads(sys.argv[1])["run_id"])' "$RESULT")
python -c 'import sys; from medgan.generate import export_generator; export_generator(sys.argv[1], "checkpoints/demo")' "$RUN_ID"
echo "exported run $RUN_ID to checkpoints/demo"
