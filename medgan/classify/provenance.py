"""What a comparison needs to be rerun: data, generators, software versions, the command line."""

from __future__ import annotations

import platform
import shlex
import time
from datetime import UTC, datetime
from importlib import metadata

import torch

from medgan.data.patients import level_word, split_warning
from medgan.data.store import load_manifest
from medgan.train.device import pick_device
from medgan.workspace import file_digest

PACKAGES = ("medgan-studio", "torch", "torchvision", "timm", "numpy", "scikit-learn", "scipy", "statsmodels")


def _device_name() -> str:
    """What the classifiers trained on: the GPU's name, or the CPU and its torch threads."""
    device = pick_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the result."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def rerun_command(config: dict) -> str:
    """The ``python -m medgan compare`` line that repeats a comparison with the same settings."""
    args = [
        "python",
        "-m",
        "medgan",
        "compare",
        "--dataset",
        config["dataset"],
        "--run",
        ",".join(config["runs"]),
        "--model",
        config["model"],
        "--folds",
        str(config["folds"]),
        "--synthetic-per-class",
        str(config["synthetic_per_class"]),
        "--epochs",
        str(config["epochs"]),
        "--patience",
        str(config["patience"]),
        "--resolution",
        str(config["resolution"]),
        "--seed",
        str(config["seed"]),
        "--arms",
        ",".join(config["arms"]),
    ]
    if config["sizes"]:
        args += ["--sizes", ",".join(str(s) if s else "all" for s in config["sizes"])]
    if config["positive_class"]:
        args += ["--positive-class", config["positive_class"]]
    if config["weights_path"]:
        args += ["--weights", config["weights_path"]]
    return shlex.join(args)


def provenance(exp, started: float) -> dict:
    """Dataset, generator and software facts of an :class:`~medgan.classify.experiment.Experiment`."""
    info = exp.data
    return {
        "dataset": {
            "name": exp.info.name,
            "id": exp.info.id,
            "n_images": len(info),
            "n_patients": len(set(info.patients)),
            "split_level": level_word(load_manifest(exp.info)),
            "split_warning": split_warning(exp.info),
            "channels": int(exp.images.shape[1]),
            "class_counts": {c: int((info.labels == c).sum()) for c in info.class_names},
        },
        "generators": [
            {
                "run_id": g.run_id,
                "arch": getattr(g, "arch", ""),
                "step": getattr(g, "step", None),
                "dataset": g.dataset,
                "split": g.config.get("split"),
                "checkpoint_sha256": g.checkpoint_sha256,
            }
            for g in exp.generators
        ],
        "synthetic": exp.synthetic.sources if exp.synthetic is not None else [],
        "n_seen_by_generator": exp.n_seen_by_generator,
        "folds": [
            {"fold": f.index, "n_train": len(f.train), "n_val": len(f.val), "n_test": len(f.test)}
            for f in exp.folds
        ],
        "weights_sha256": file_digest(exp.config.weights_path) if exp.config.weights_path else None,
        "versions": package_versions(),
        "device": _device_name(),
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 1),
        "command": rerun_command(exp.config.to_dict()),
    }
