#!/usr/bin/env bash
# Rebuilds checkpoints/demo/ from scratch on CPU: trains the demo generator on the phantom dataset, then
# exports the EMA weights of its latest checkpoint + config + a sample grid (MODEL_CARD.md says why latest).
# Usage: checkpoints/demo/reproduce.sh [WORKSPACE]
set -euo pipefail
cd "$(dirname "$0")/../.."
export MEDGAN_HOME="${1:-${MEDGAN_HOME:-workspace}}"
RESULT=$(python -m medgan train --dataset demo-phantom --arch fastgan --conditional --resolution 64 \
  --width 12 --batch-size 16 --augment diffaugment --steps 6000 --seed 0 --json | tail -n 1)
RUN_ID=$(python -c 'import json, sys; print(json.loads(sys.argv[1])["run_id"])' "$RESULT")
python -c 'import sys; from medgan.generate import export_generator; export_generator(sys.argv[1] + "@latest", "checkpoints/demo")' "$RUN_ID"
echo "exported run $RUN_ID (latest checkpoint) to checkpoints/demo"
