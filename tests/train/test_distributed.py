"""The trainer runs unchanged under torchrun: two CPU processes (gloo), rank 0 writes the files."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from medgan import runs, workspace
from medgan.generate import load_generator
from medgan.models.registry import ModelConfig, build_models
from medgan.train.batches import BatchSource
from medgan.train.checkpoint import load_checkpoint
from medgan.train.config import load_config, save_config
from medgan.train.distributed import DistInfo, local_batch_size, sync_batchnorm
from medgan.train.losses import discriminator_loss
from medgan.train.trainer import create_run
from tests.train.helpers import tiny_config

TORCHRUN_TRAIN = [
    sys.executable,
    "-m",
    "torch.distributed.run",
    "--standalone",
    "--nproc_per_node=2",
    "-m",
    "medgan",
    "train",
]


@pytest.mark.slow
def test_torchrun_two_processes_on_cpu(demo_dataset):
    run_id = create_run(tiny_config(steps=3, conditional="conditional", ema=True))
    command = [*TORCHRUN_TRAIN, "--resume", run_id, "--json"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MEDGAN_HOME": str(workspace.home())}
    done = subprocess.run(
        command, cwd=workspace.REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 2 and all(r["status"] == "done" and r["step"] == 3 for r in results)  # both ranks
    lines = (runs.run_dir(run_id) / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3]  # written once, by rank 0
    assert load_generator(run_id).sample(2, label="mass").shape == (2, 1, 32, 32)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["progan", "fastgan"])
def test_torchrun_new_run_is_one_run(demo_dataset, arch):
    """Without --resume all ranks train the same new run; ProGAN's unused levels and FastGAN's decoders
    (no gradient from fake images) do not stop DDP."""
    command = [
        *TORCHRUN_TRAIN,
        "--dataset",
        "demo-phantom",
        "--arch",
        arch,
        "--resolution",
        "32",
        "--steps",
        "2",
        "--batch-size",
        "8",
        "--width",
        "8",
        "--json",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MEDGAN_HOME": str(workspace.home())}
    done = subprocess.run(
        command, cwd=workspace.REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 2 and results[0]["run_id"] == results[1]["run_id"]
    assert [r.id for r in runs.list_runs()] == [results[0]["run_id"]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _two_ranks(run_id: str, out: Path, *extra: str) -> list[dict]:
    """Train ``run_id`` with two gloo processes (the torchrun environment, set by hand); each rank's record."""
    port, procs = _free_port(), []
    out.mkdir(parents=True, exist_ok=True)
    for rank in range(2):
        env = {
            **os.environ,
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "OMP_NUM_THREADS": "1",
            "MEDGAN_HOME": str(workspace.home()),
        }
        command = [
            sys.executable,
            "-m",
            "tests.train.ddp_worker",
            run_id,
            str(out / f"rank{rank}.json"),
            *extra,
        ]
        procs.append(
            subprocess.Popen(command, cwd=workspace.REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
        )
    errors = [proc.communicate(timeout=300)[1] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), "\n".join(e[-2000:] for e in errors)
    return [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(2)]


@pytest.mark.slow
def test_two_rank_resume_equals_uninterrupted_two_rank_run_bitwise(demo_dataset, tmp_path):
    """Two gloo ranks: 6 steps + resume to 8 equals 8 steps straight, bit for bit (weights, EMA, optimizer
    moments, ADA); each rank draws its own noise before and after the resume; ADA p agrees on all ranks.
    A fast-learning D (lr 0.01) is sure of the real images at once, so ADA raises p at step 4 and 8."""
    config = {"steps": 8, "checkpoint_every": 3, "augment": "ada", "ema": True, "lr_d": 0.01}
    straight = create_run(tiny_config(**config))
    whole = _two_ranks(straight, tmp_path / "straight")
    halves = create_run(tiny_config(**{**config, "steps": 6}))
    first = _two_ranks(halves, tmp_path / "first")
    cfg = load_config(runs.run_dir(halves))
    cfg.steps = 8
    save_config(cfg, runs.run_dir(halves))
    second = _two_ranks(halves, tmp_path / "second")
    a, b = (load_checkpoint(runs.run_dir(r) / "checkpoints" / "latest.pt") for r in (straight, halves))
    assert a["step"] == b["step"] == 8
    for part in ("G", "D", "ema"):
        for name, tensor in a[part].items():
            assert torch.equal(tensor, b[part][name]), f"{part}.{name} differs after resume"
    for opt in ("opt_g", "opt_d"):
        for key, state in a[opt]["state"].items():
            assert all(torch.equal(state[k], b[opt]["state"][key][k]) for k in state), f"{opt} moments differ"
    assert a["ada"] == b["ada"] and a["ada"]["p"] > 0  # p moved (every 4 steps) and matches
    for records in (whole, second):
        assert records[0]["ada"] == records[1]["ada"]  # identical on both ranks
    for r in range(2):
        assert first[r]["noise"] + second[r]["noise"] == whole[r]["noise"]  # each rank's stream continues
    for records in (whole, first, second):
        for row0, row1 in zip(records[0]["noise"], records[1]["noise"], strict=True):
            assert row0[0] == row1[0] and row0[1:] != row1[1:]  # same step, different noise per rank


@pytest.mark.slow
def test_abort_seen_by_one_rank_stops_both_at_the_same_step(demo_dataset, tmp_path):
    """Only rank 1's abort callback turns true (after 3 steps): both ranks stop together at the next tick
    (step 4 with log_every 2) and save one checkpoint there, instead of one rank waiting for the other."""
    run_id = create_run(tiny_config(steps=40, log_every=2, checkpoint_every=100, sample_every=100))
    records = _two_ranks(run_id, tmp_path, "3")
    assert [r["result"]["step"] for r in records] == [4, 4]
    assert all(r["result"]["status"] == "cancelled" for r in records)
    assert load_checkpoint(runs.run_dir(run_id) / "checkpoints" / "latest.pt")["step"] == 4


def test_two_ranks_of_half_batches_make_the_one_process_batch_and_gradient():
    """``batch_size`` is the global batch: rank r of 2 takes its half of the very images one process takes,
    and the average of the two halves' gradients (what DDP computes) is the whole batch's gradient, so
    2 x B/2 steps like 1 x B at the same learning rate (exactly without BatchNorm; with BatchNorm in
    expectation, or exactly with sync_bn on CUDA)."""
    images = np.random.default_rng(0).integers(0, 256, (20, 1, 4, 4), dtype=np.uint8)
    labels, cpu = np.zeros(20, dtype=np.int64), torch.device("cpu")
    one = BatchSource(images, labels, 8, 3, cpu)
    ranks = [BatchSource(images, labels, local_batch_size(8, DistInfo(r, 2)), 3, cpu, r, 2) for r in range(2)]
    for step in range(6):  # 48 images: crosses two epochs of 20
        assert torch.equal(one.batch(step)[0], torch.cat([rank.batch(step)[0] for rank in ranks]))
    with pytest.raises(ValueError, match="does not split evenly over 3 processes"):
        local_batch_size(8, DistInfo(0, 3))
    torch.manual_seed(0)
    _, critic = build_models(ModelConfig("wgan-gp", 32, 1, 0, 16, 8))
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in critic.modules())
    real, fake = torch.randn(8, 1, 32, 32), torch.randn(8, 1, 32, 32)

    def gradient(rows: slice) -> list[torch.Tensor]:
        critic.zero_grad()
        loss, _ = discriminator_loss("hinge", critic, real[rows], fake[rows], None)
        loss.backward()
        return [p.grad.clone() for p in critic.parameters()]

    whole, first, second = gradient(slice(0, 8)), gradient(slice(0, 4)), gradient(slice(4, 8))
    for g, a, b in zip(whole, first, second, strict=True):
        assert torch.allclose(g, (a + b) / 2, rtol=1e-4, atol=1e-5)  # float summation order only


def test_sync_batchnorm_only_on_cuda_under_ddp_when_asked():
    """The sync_bn option swaps BatchNorm for SyncBatchNorm (same parameters, so checkpoints still load
    into plain networks) on CUDA under DDP only; SyncBatchNorm has no CPU kernels."""
    G, _ = build_models(ModelConfig("dcgan", 32, 1, 0, 16, 8))
    state = {k: v.clone() for k, v in G.state_dict().items()}
    cuda, two = torch.device("cuda", 0), DistInfo(0, 2)
    for info, device, enabled in [
        (two, torch.device("cpu"), True),
        (DistInfo(), cuda, True),
        (two, cuda, False),
    ]:
        assert sync_batchnorm(G, info, device, enabled) is G
    synced = sync_batchnorm(G, two, cuda, True)
    assert any(isinstance(m, nn.SyncBatchNorm) for m in synced.modules())
    assert not any(type(m) is nn.BatchNorm2d for m in synced.modules())
    plain, _ = build_models(ModelConfig("dcgan", 32, 1, 0, 16, 8))
    plain.load_state_dict(synced.state_dict())
    assert all(torch.equal(plain.state_dict()[k], v) for k, v in state.items())
