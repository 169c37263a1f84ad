"""Training statistics kept on the device between ticks and turned into numbers once per tick.

Every step adds its detached loss tensors to running sums without a host sync; at a tick the means over
the tick's steps (and over the ranks, under DDP) come back to the host in one transfer, together with a
flag any rank can raise, so all ranks decide to stop at the same step (StyleGAN2-ADA's stats collector
and ``done`` broadcast, in a few lines).
"""

from __future__ import annotations

import torch

from medgan.train import distributed


def is_tick(step: int, log_every: int, total: int) -> bool:
    """Log (and reduce statistics) at this step: every ``log_every``, the last step, and 1, 2, 4, 8..."""
    early = step < log_every and step & (step - 1) == 0
    return early or step % log_every == 0 or step == total


class TickStats:
    """Running sums of per-step statistics since the last tick."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}  # steps that reported each statistic (lazy R1: every 16th)

    def add(self, stats: dict[str, torch.Tensor | float]) -> None:
        """Add one step's statistics (tensors stay on their device)."""
        for name, value in stats.items():
            value = torch.as_tensor(value).detach().float()
            self.sums[name] = self.sums[name] + value if name in self.sums else value.clone()
            self.counts[name] = self.counts.get(name, 0) + 1

    def reduce(self, info: distributed.DistInfo, flag: bool = False) -> tuple[dict[str, float], bool]:
        """Means over the tick's steps and all ranks, and whether any rank raised ``flag``; resets."""
        names = sorted(self.sums)
        device = next(iter(self.sums.values())).device if self.sums else torch.device("cpu")
        means = [self.sums[n] / self.counts[n] for n in names]
        packed = torch.stack([*means, torch.tensor(float(flag), device=device)])
        values = distributed.all_sum(packed, info).tolist()  # the tick's one host sync
        self.sums, self.counts = {}, {}
        return {n: v / info.world_size for n, v in zip(names, values, strict=False)}, values[-1] > 0
