"""Running the trainer unchanged under ``torchrun``: DistributedDataParallel over gloo (CPU) or nccl (GPU).

Outside torchrun everything here is a no-op (one process, rank 0). Rank 0 alone writes logs, samples and
checkpoints; every rank takes its own slice of the same deterministic global batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job: rank, world size and local rank (GPU index on its node)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """True when more than one process trains together."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on the process that writes files."""
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """True when torchrun (or another launcher) set the process-group environment."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1


def shared_run_id(arch: str) -> str:
    """The run id every torchrun rank derives from the launcher's run id (so all ranks train one run)."""
    launch = os.environ.get("TORCHELASTIC_RUN_ID", "none")
    if launch == "none":
        raise ValueError("under torchrun, start with --standalone or --rdzv-id, or pass --resume RUN_ID")
    return f"{arch}-ddp-{launch[:12]}"


def setup(device_type: str) -> DistInfo:
    """Join the process group when launched by torchrun (nccl on CUDA, gloo on CPU); else one process."""
    if not launched_by_torchrun():
        return DistInfo()
    info = DistInfo(
        int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))
    )
    if not dist.is_initialized():
        if device_type == "cuda":
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    return info


def wrap(module: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """``module`` wrapped in DistributedDataParallel when training on several processes."""
    if not info.enabled:
        return module
    ids = [device.index] if device.type == "cuda" else None
    # ProGAN's inactive levels get no gradient until they grow in, which DDP must be told about.
    return nn.parallel.DistributedDataParallel(
        module, device_ids=ids, forward_sync_buffers=False, find_unused_parameters=hasattr(module, "set_level")
    )


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a DDP wrapper (state dicts are saved from it)."""
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


def all_mean(value: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Average a scalar tensor over all processes (for logging)."""
    if info.enabled:
        value = value.detach().clone()
        dist.all_reduce(value)
        value /= info.world_size
    return value


def teardown(info: DistInfo) -> None:
    """Leave the process group."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
