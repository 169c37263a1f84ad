"""Roofline fraction of a training step: model FLOPs counted by ``torch.utils.flop_counter`` against the
device's dense bf16 tensor-core peak (vendor data sheets, without 2:4 sparsity)."""

from __future__ import annotations

from collections.abc import Callable

from torch.utils.flop_counter import FlopCounterMode

# Dense bf16 TFLOP/s by GPU name fragment (longest match wins): NVIDIA data sheets.
PEAK_BF16_TFLOPS = {
    "H200": 989.0,
    "H100": 989.0,  # SXM; the PCIe card is 756
    "H100 PCIe": 756.0,
    "H800": 989.0,
    "GH200": 989.0,
    "B200": 2250.0,
    "A100": 312.0,
    "A800": 312.0,
    "L40S": 362.0,
    "L40": 181.0,
    "L4": 121.0,
    "A10": 125.0,
    "RTX 4090": 165.0,
    "RTX 3090": 71.0,
    "V100": 125.0,  # fp16 tensor cores (no bf16)
    "T4": 65.0,  # fp16 tensor cores (no bf16)
}


def peak_tflops(device_name: str) -> float | None:
    """The dense bf16 peak of a device by its name (``torch.cuda.get_device_name()``), None if unknown."""
    matches = [key for key in PEAK_BF16_TFLOPS if key.lower() in device_name.lower()]
    return PEAK_BF16_TFLOPS[max(matches, key=len)] if matches else None


def step_flops(step: Callable[[], object]) -> int:
    """FLOPs of one call of ``step`` (forward and backward matmuls and convolutions)."""
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return counter.get_total_flops()
