"""One rank of a two-process gloo run, started by the distributed tests with the launcher's environment
(RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT). It trains a run through ``train_run`` exactly as a torchrun
worker does and writes what the test checks: the head of every noise batch it drew and ADA's state.

    python -m tests.train.ddp_worker RUN_ID OUT.json [ABORT_AFTER]

With ABORT_AFTER, rank 1 alone sees its abort callback turn true once it has trained that many steps.
"""

from __future__ import annotations

import json
import os
import sys

import torch

from medgan.train.trainer import Trainer, train_run


def main(run_id: str, out: str, abort_after: int | None = None) -> None:
    noise, ada = [], []
    draw, train = Trainer.noise, Trainer.train

    def recorded_noise(self: Trainer, n: int) -> torch.Tensor:
        z = draw(self, n)
        noise.append([self.step, *z[0, :4].tolist()])
        return z

    def recorded_train(self: Trainer, *args, **kwargs) -> int:
        step = train(self, *args, **kwargs)
        ada.append(self.tools.ada.state_dict() if self.tools.ada else None)
        return step

    Trainer.noise, Trainer.train = recorded_noise, recorded_train
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    abort = None if abort_after is None else (lambda: rank == 1 and len(noise) >= abort_after)
    result = train_run(run_id, abort_fn=abort)
    with open(out, "w") as fh:
        json.dump({"result": result, "noise": noise, "ada": ada[-1]}, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
