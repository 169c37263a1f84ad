"""The comparison experiment's settings: one typed dataclass, saved as JSON with every result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from medgan.classify.arms import ARMS
from medgan.data.augment import AugmentConfig


@dataclass(frozen=True)
class CompareConfig:
    """Everything that fixes a comparison; the same config and seed give the same result.

    ``runs`` holds one class-conditional run id (or "demo"), or one run per class. ``synthetic_per_class``
    (N) is how many synthetic images, and how many augmented copies, per class an arm adds to its training
    set. ``sizes`` lists training-set sizes in real images for an F1-vs-size sweep; 0 stands for the full
    training folds, and an empty tuple means (0,).
    """

    dataset: str
    runs: tuple[str, ...] = ("demo",)
    model: str = "small-cnn"
    folds: int = 3
    synthetic_per_class: int = 200
    sizes: tuple[int, ...] = ()
    epochs: int = 12
    patience: int = 3
    batch_size: int = 32
    min_steps_per_epoch: int = 20  # small training sets are cycled so every arm gets as many updates
    learning_rate: float = 2e-3
    resolution: int = 32
    val_fraction: float = 0.15
    n_bootstrap: int = 1000
    seed: int = 0
    weights_path: str | None = None
    positive_class: str | None = (
        None  # two classes: whose sensitivity is reported (default: the non-normal one)
    )
    arms: tuple[str, ...] = tuple(ARMS)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        problems = []
        if self.folds < 2:
            problems.append(f"folds must be at least 2 (got {self.folds})")
        if self.epochs < 1 or self.patience < 1 or self.batch_size < 1:
            problems.append("epochs, patience and batch_size must be at least 1")
        if not 8 <= self.resolution <= 512:
            problems.append(f"resolution must lie in 8..512 px (got {self.resolution})")
        if not 0 < self.val_fraction < 0.5:
            problems.append(f"val_fraction must lie in (0, 0.5) (got {self.val_fraction})")
        if self.synthetic_per_class < 0 or any(s != 0 and s < 2 for s in self.sizes):
            problems.append("synthetic_per_class must be >= 0 and every size >= 2 (or 0 for all)")
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown or not self.arms:
            problems.append(f"unknown arms {unknown}; choose from {list(ARMS)}")
        if self.uses_synthetic and not self.runs:
            problems.append("the synthetic arms need a run (--run)")
        if self.synthetic_per_class == 0 and any(a != "real" for a in self.arms):
            problems.append(
                "synthetic_per_class must be > 0: it sets how many augmented and synthetic images "
                "per class the arms add"
            )
        if problems:
            raise ValueError("invalid comparison config: " + "; ".join(problems))

    @property
    def uses_synthetic(self) -> bool:
        """True when one of the chosen arms adds synthetic images."""
        return any(ARMS[a].synthetic for a in self.arms if a in ARMS)

    def to_dict(self) -> dict:
        """JSON-ready copy (tuples as lists)."""
        data = asdict(self)
        for key in ("runs", "sizes", "arms"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict) -> CompareConfig:
        """Build from a dict (e.g. job params); unknown keys are an error, not silently ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown comparison settings: {unknown}")
        values = dict(data)
        for key in ("runs", "sizes", "arms"):
            if key in values:
                values[key] = tuple(values[key])
        if isinstance(values.get("augment"), dict):
            values["augment"] = AugmentConfig(**values["augment"])
        return cls(**values)


def parse_sizes(text: str) -> tuple[int, ...]:
    """'100,200,all' -> (100, 200, 0): 0 stands for the full training folds."""
    try:
        return tuple(0 if part.strip() == "all" else int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(
            f"training-set sizes: expected comma-separated integers or 'all', got {text!r}"
        ) from exc
