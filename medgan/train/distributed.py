"""Running the trainer unchanged under ``torchrun``: DistributedDataParallel over gloo (CPU) or nccl (GPU).

Outside torchrun everything here is a no-op (one process, rank 0). Rank 0 alone writes logs, samples and
checkpoints (with every rank's random state in them); every rank takes its own slice of the same
deterministic global batch.

Batch and learning rate under N ranks: ``batch_size`` in the config is the global batch. Each rank
trains on ``batch_size / N`` images and DDP averages the gradients, so N ranks take the same step in
expectation as one process on the whole batch, with the same learning rate: the learning rate does not
scale with N, and ADA and EMA count the global batch.
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


def local_batch_size(batch_size: int, info: DistInfo) -> int:
    """This rank's share of the global batch; ValueError when it does not divide evenly."""
    if batch_size % info.world_size:
        raise ValueError(
            f"batch size {batch_size} does not split evenly over {info.world_size} processes: "
            f"choose a multiple of {info.world_size}"
        )
    return batch_size // info.world_size


def sync_batchnorm(module: nn.Module, info: DistInfo, device: torch.device, enabled: bool) -> nn.Module:
    """``module`` with its BatchNorm layers synchronised over ranks (CUDA under DDP only; else as is)."""
    if not (enabled and info.enabled and device.type == "cuda"):
        return module
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)


def wrap(module: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """``module`` wrapped in DistributedDataParallel when training on several processes."""
    if not info.enabled:
        return module
    ids = [device.index] if device.type == "cuda" else None
    # ProGAN's inactive levels get no gradient until they grow in, which DDP must be told about.
    return nn.parallel.DistributedDataParallel(
        module,
        device_ids=ids,
        forward_sync_buffers=False,
        find_unused_parameters=hasattr(module, "set_level"),
    )


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a DDP wrapper (state dicts are saved from it)."""
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


def all_sum(value: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Sum a tensor over all processes (one collective; moved to the backend's device and back)."""
    if not info.enabled:
        return value
    comm = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    total = value.detach().to(comm, copy=True)
    dist.all_reduce(total)
    return total.to(value.device)


def all_gather(obj: object, info: DistInfo) -> list[object]:
    """Every rank's ``obj`` (picklable; tensors in it come back on the device they were on), by rank."""
    if not info.enabled:
        return [obj]
    out: list[object] = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def teardown(info: DistInfo) -> None:
    """Leave the process group."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
