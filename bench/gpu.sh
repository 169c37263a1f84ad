#!/usr/bin/env bash
# The training engine on a GPU (issue 12), in one short script for a lent device:
#   1. bench/train.py on CUDA: images/s of the shipped Trainer.train() loop (logs, grids, checkpoints) against
#      the PyTorch DCGAN tutorial loop on the same GPU, and the fraction of the GPU's dense bf16 roofline
#      (FLOPs of one step from torch.utils.flop_counter). Goals: >= 5x the tutorial, > 25 % of the roofline.
#   2. the same with torch.compile (TrainConfig.compile stays off until this shows it helps).
#   3. bench/quality.py: the default preset (dcgan) for 3 minutes at 128 px, FID against held-out images
#      (DATASET=folder-or-name, default the demo phantom); skipped, saying so, where the script is absent.
# --dry-run runs the same steps on the CPU at toy sizes (the test suite does, without a GPU).
#
#   bash bench/gpu.sh [--dry-run]
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--dry-run" ]]; then
    device=cpu
    train_args=(--batch-size 4 --steps 1 --rounds 1)
    quality_args=(--dry-run --resolution 32)
else
    device=cuda
    train_args=(--batch-size 256 --steps 50 --rounds 3)
    quality_args=(--minutes 3 --resolution 128)
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi

echo "== 1. engine: Trainer.train() vs the tutorial loop on $device, roofline"
python bench/train.py --device "$device" "${train_args[@]}" --roofline

if [[ "$device" == cuda ]]; then
    echo "== 2. the same with torch.compile"
    python bench/train.py --device cuda "${train_args[@]}" --compile
else
    echo "== 2. torch.compile: skipped in the dry run (minutes of compilation on a CPU)"
fi

echo "== 3. quality: default preset (dcgan), 128 px, FID"
if [[ -f bench/quality.py ]]; then
    python bench/quality.py "${quality_args[@]}" --dataset "${DATASET:-demo-phantom}" --archs dcgan --device "$device"
else
    echo "bench/quality.py is not in this checkout: quality step skipped"
fi
