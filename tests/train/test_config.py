"""TrainConfig: JSON round trip, unknown keys rejected, validation, presets."""

from __future__ import annotations

import json

import pytest

from medgan.train.config import TrainConfig, default_config, load_config, preset_overrides, save_config


def test_round_trip_through_config_json(tmp_path):
    config = default_config("demo-phantom", "acgan", steps=7, augment="ada")
    save_config(config, tmp_path)
    loaded = load_config(tmp_path)
    assert loaded == config
    assert loaded.conditional == "conditional" and loaded.augment == "ada" and loaded.steps == 7


def test_unknown_keys_are_rejected_naming_file_and_key(tmp_path):
    data = default_config("demo-phantom", "dcgan").to_dict() | {"learning_rate": 0.1}
    (tmp_path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"config\.json.*learning_rate"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    "field,value", [("resolution", 48), ("augment", "mixup"), ("conditional", "both"), ("batch_size", 0)]
)
def test_invalid_values_are_rejected(field, value):
    with pytest.raises(ValueError):
        TrainConfig.from_dict({"dataset": "x", field: value})


def test_gpu_presets_are_larger_than_cpu_presets():
    for arch in ("dcgan", "wgan-gp", "progan"):
        cpu, gpu = preset_overrides(arch, gpu=False), preset_overrides(arch, gpu=True)
        assert gpu["batch_size"] > cpu["batch_size"] and gpu["steps"] > cpu["steps"]
    with pytest.raises(ValueError, match="unknown architecture"):
        preset_overrides("stylegan9", gpu=False)


def test_presets_cover_the_model_registry():
    from medgan.models.registry import arch_names
    from medgan.train.config import architectures

    assert sorted(architectures()) == sorted(arch_names())
