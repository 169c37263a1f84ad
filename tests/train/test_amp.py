"""``config.amp`` on CPU: bf16 autocast in the training step where the CPU has bf16 units (AMX or
AVX512-BF16), fp32 elsewhere and with ``amp=False``;
losses and the fixed-noise samples (inference, outside autocast) in fp32 either way."""

from __future__ import annotations

import pytest
import torch

from medgan import runs
from medgan.train.device import cpu_runs_bf16
from medgan.train.trainer import Trainer, create_run
from tests.train.helpers import tiny_config

BF16 = torch.bfloat16 if cpu_runs_bf16() else None


def _conv_dtypes(trainer: Trainer, work) -> set[torch.dtype]:
    """The output dtypes of every convolution of G and D while ``work()`` runs."""
    seen: set[torch.dtype] = set()
    convs = [
        m
        for net in (trainer.G, trainer.D)
        for m in net.modules()
        if isinstance(m, torch.nn.modules.conv._ConvNd)
    ]
    hooks = [m.register_forward_hook(lambda _m, _i, out: seen.add(out.dtype)) for m in convs]
    try:
        work()
    finally:
        for hook in hooks:
            hook.remove()
    return seen


@pytest.mark.parametrize("amp", [True, False])
def test_cpu_amp_trains_in_bf16_where_the_cpu_has_bf16_units_and_fp32_without(demo_dataset, amp):
    config = tiny_config(amp=amp)
    trainer = Trainer(config, runs.run_dir(create_run(config)))
    expected = BF16 if amp else None
    assert trainer.amp_dtype == expected
    stats: dict = {}
    step_dtypes = _conv_dtypes(trainer, lambda: stats.update(trainer.train_step()))
    assert step_dtypes == {expected or torch.float32}
    for name, value in stats.items():
        assert torch.as_tensor(value).dtype == torch.float32, name
    assert _conv_dtypes(trainer, trainer.fixed_samples) == {torch.float32}
    assert all(p.dtype == torch.float32 for net in (trainer.G, trainer.D) for p in net.parameters())
