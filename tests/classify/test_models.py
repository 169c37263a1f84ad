"""Classifier registry (medgan/classify/models.py): small CNN and timm models, local weights."""

import pytest
import torch

from medgan.classify.models import create_classifier, load_matching_weights


@pytest.mark.parametrize("name", ["small-cnn", "resnet10t"])
def test_models_give_logits_per_class(name):
    model = create_classifier(name, in_chans=1, num_classes=3).eval()
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 3)


def test_local_weights_load_where_names_and_shapes_match(tmp_path):
    torch.manual_seed(0)
    source = create_classifier("small-cnn", 1, 5)
    path = tmp_path / "weights.pt"
    torch.save(source.state_dict(), path)
    model = create_classifier("small-cnn", 1, 2, weights_path=path)
    first_conv = next(k for k in source.state_dict() if k.endswith("weight"))
    assert torch.equal(model.state_dict()[first_conv], source.state_dict()[first_conv])
    skipped = load_matching_weights(create_classifier("small-cnn", 1, 2), path)
    assert skipped and all(k.startswith(tuple("0123456789")) for k in skipped)  # the 2-class head only
    assert not torch.equal(model.state_dict()[skipped[0]][:2], source.state_dict()[skipped[0]][:2])


def test_bad_names_and_files_are_reported(tmp_path):
    with pytest.raises(ValueError, match="unknown classifier 'no-such-net'"):
        create_classifier("no-such-net", 1, 2)
    missing = tmp_path / "missing.pt"
    with pytest.raises(ValueError, match="missing.pt: weights file not found"):
        create_classifier("small-cnn", 1, 2, weights_path=missing)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt: not a readable PyTorch state dict"):
        create_classifier("small-cnn", 1, 2, weights_path=junk)
    other = tmp_path / "other.pt"
    torch.save({"x.weight": torch.zeros(3)}, other)
    with pytest.raises(ValueError, match="no weight matches"):
        create_classifier("small-cnn", 1, 2, weights_path=other)
