"""``config.amp`` on CPU: bf16 autocast in the training step where AMX runs it, fp32 with ``amp=False``;
losses and the fixed-noise samples (inference, outside autocast) in fp32 either way."""

from __future__ import annotations

import pytest
import torch

from medgan import runs
from medgan.train.trainer import Trainer, create_run
from tests.train.helpers import tiny_config

AMX = torch.cpu._is_amx_tile_supported()


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


@pytest.mark.skipif(not AMX, reason="this CPU has no AMX tiles: config.amp leaves CPU training in fp32 there")
@pytest.mark.parametrize("amp", [True, False])
def test_cpu_amp_trains_in_bf16_on_amx_and_fp32_without(demo_dataset, amp):
    config = tiny_config(amp=amp)
    trainer = Trainer(config, runs.run_dir(create_run(config)))
    assert trainer.amp_dtype == (torch.bfloat16 if amp else None)
    stats: dict = {}
    step_dtypes = _conv_dtypes(trainer, lambda: stats.update(trainer.train_step()))
    assert step_dtypes == ({torch.bfloat16} if amp else {torch.float32})
    for name, value in stats.items():
        assert torch.as_tensor(value).dtype == torch.float32, name
    assert _conv_dtypes(trainer, trainer.fixed_samples) == {torch.float32}
    assert all(p.dtype == torch.float32 for net in (trainer.G, trainer.D) for p in net.parameters())
