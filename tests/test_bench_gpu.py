"""bench/gpu.sh, the GPU benchmark of the training engine, runs end to end on the CPU with --dry-run."""

from __future__ import annotations

import os
import subprocess

import pytest

from medgan import workspace


@pytest.mark.slow
def test_gpu_benchmark_dry_run_on_cpu(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MEDGAN_HOME": str(tmp_path / "workspace")}
    done = subprocess.run(
        ["bash", "bench/gpu.sh", "--dry-run"],
        cwd=workspace.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    out = done.stdout
    assert "ratio medgan / reference:" in out and "roofline:" in out and "GFLOP per step" in out
    assert "== 3. quality" in out


def test_roofline_peaks_by_device_name_and_counted_flops():
    import torch

    from bench.roofline import peak_tflops, step_flops

    assert peak_tflops("NVIDIA H200") == peak_tflops("NVIDIA H100 80GB HBM3") == 989.0
    assert peak_tflops("NVIDIA H100 PCIe") == 756.0 and peak_tflops("CPU") is None
    conv, x = torch.nn.Conv2d(3, 8, 3, bias=False), torch.randn(2, 3, 10, 10)
    assert step_flops(lambda: conv(x)) == 2 * 2 * 8 * 8 * 8 * 3 * 9  # 2 N Cout Hout Wout Cin k^2
