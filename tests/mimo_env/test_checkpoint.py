"""Checkpoint files: round trip, atomicity, and refusal of damaged or foreign files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mimo_env.checkpoint import (
    MAGIC,
    CheckpointError,
    canonical_fingerprint,
    load_checkpoint,
    save_checkpoint,
)

FINGERPRINT = canonical_fingerprint({"preset": "tiny", "model": "mlp", "sigma2": 0.0})


def _state() -> dict:
    rng = np.random.default_rng(7)
    return {
        "weights": {"w": torch.randn(3, 2), "b": torch.zeros(2)},
        "v_inv": rng.normal(size=(5, 5)),
        "mask": np.array([True, False, True]),
        "rng": rng.bit_generator.state,
        "torch_rng": torch.Generator().manual_seed(3).get_state(),
        "round": 4,
        "history": [1.5, None, "x", (1, 2)],
    }


def test_round_trip_restores_every_value(tmp_path):
    state = _state()
    path = save_checkpoint(tmp_path / "run.ckpt", state, kind="env", fingerprint=FINGERPRINT)
    loaded = load_checkpoint(path, kind="env", fingerprint=FINGERPRINT)
    assert torch.equal(loaded["weights"]["w"], state["weights"]["w"])
    np.testing.assert_array_equal(loaded["v_inv"], state["v_inv"])
    assert loaded["mask"].dtype == np.bool_
    np.testing.assert_array_equal(loaded["mask"], state["mask"])
    assert loaded["rng"] == state["rng"]
    assert torch.equal(loaded["torch_rng"], state["torch_rng"])
    assert loaded["round"] == 4 and loaded["history"] == [1.5, None, "x", (1, 2)]
    restored = np.random.default_rng()
    restored.bit_generator.state = loaded["rng"]
    original = np.random.default_rng(7)
    original.normal(size=(5, 5))
    assert restored.random() == original.random()


@pytest.mark.parametrize("damage", ["truncate", "flip", "header"])
def test_damaged_file_is_refused(tmp_path, damage):
    path = save_checkpoint(tmp_path / "run.ckpt", _state(), kind="env", fingerprint=FINGERPRINT)
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip":
        raw[-100] ^= 0xFF
    else:
        raw[:5] = b"PK\x03\x04x"
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError):
        load_checkpoint(path, kind="env", fingerprint=FINGERPRINT)


def test_foreign_kind_and_setup_are_refused_with_the_difference_named(tmp_path):
    path = save_checkpoint(tmp_path / "run.ckpt", _state(), kind="env", fingerprint=FINGERPRINT)
    with pytest.raises(CheckpointError, match="selector"):
        load_checkpoint(path, kind="selector")
    other = canonical_fingerprint({"preset": "quick", "model": "mlp", "sigma2": 0.0})
    with pytest.raises(CheckpointError, match="preset is 'tiny' in the checkpoint but 'quick' now"):
        load_checkpoint(path, kind="env", fingerprint=other)


def test_missing_file_and_plain_torch_file_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.ckpt", kind="env")
    plain = tmp_path / "plain.pt"
    torch.save({"state": 1}, plain)
    with pytest.raises(CheckpointError, match="bad header"):
        load_checkpoint(plain, kind="env")


def test_failed_save_keeps_the_existing_checkpoint(tmp_path):
    path = save_checkpoint(tmp_path / "run.ckpt", _state(), kind="env", fingerprint=FINGERPRINT)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot checkpoint"):
        save_checkpoint(path, {"bad": object()}, kind="env", fingerprint=FINGERPRINT)
    assert path.read_bytes() == before
    assert before.startswith(MAGIC)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt"]
