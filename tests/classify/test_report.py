"""medgan/classify/report.py: the size sweep's synthetic-arm numbers say what their generator was trained on."""

from medgan.classify.report import arm_label, generator_note

RESULT = {"generators": [{"run_id": "demo"}], "n_seen_by_generator": 712}


def test_reduced_sizes_label_the_synthetic_arms_with_the_generator_training_data():
    note = "generator trained on the full training split (712 real images)"
    assert generator_note(RESULT) == note
    assert arm_label(RESULT, "real+synthetic", ["10", "all"]) == f"real+synthetic ({note})"
    assert arm_label(RESULT, "real+classic+synthetic", ["10"]) == f"real+classic+synthetic ({note})"
    assert arm_label(RESULT, "real+classic", ["10"]) == "real+classic"  # no synthetic images
    # at the full training folds the arm trains on the real images its generator saw
    assert arm_label(RESULT, "real+synthetic", ["all"]) == "real+synthetic"
    no_generator = {"generators": [], "n_seen_by_generator": 0}
    assert arm_label(no_generator, "real+synthetic", ["10"]) == "real+synthetic"
