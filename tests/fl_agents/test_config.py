import pytest

from fl_agents.config import FLConfig


def test_defaults_are_the_papers():
    config = FLConfig()
    assert (config.num_clusters, config.lr, config.lr_decay, config.batch_size, config.local_epochs) == (
        3,
        1e-3,
        0.002,
        32,
        1,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("num_clusters", 0),
        ("num_clusters", 2.0),
        ("model", "resnet50"),
        ("width", 0),
        ("objective", "mae"),
        ("lr", 0.0),
        ("lr", float("nan")),
        ("lr_decay", 1.0),
        ("batch_size", True),
        ("local_epochs", -1),
        ("se_temperature", 0.0),
    ],
)
def test_invalid_field_raises_naming_field_and_value(field, value):
    with pytest.raises(ValueError, match=rf"FLConfig\.{field}.*{value!r}"[:40]):
        FLConfig(**{field: value})


def test_learning_rate_decays_by_lr_decay_per_round():
    config = FLConfig(lr=1e-3, lr_decay=0.002)
    assert config.learning_rate(1) == 1e-3
    assert config.learning_rate(11) == pytest.approx(1e-3 * 0.998**10, rel=1e-12)
    with pytest.raises(ValueError, match="round_index"):
        config.learning_rate(0)


def test_replace_validates():
    assert FLConfig().replace(objective="se").objective == "se"
    with pytest.raises(ValueError, match="unknown FLConfig field"):
        FLConfig().replace(colour="red")
