"""Safe, atomic checkpoint files.

A checkpoint file is ``MAGIC`` + a 64-character hex SHA-256 of the payload + ``\\n`` + the payload, where the payload
is a ``torch.save`` archive of ``{"kind", "fingerprint", "state"}``. Loading reads the whole file, checks the magic
and the digest (so a truncated or corrupted file is refused before anything is deserialised), then deserialises with
``torch.load(weights_only=True)``, which executes no code from the file. Saving writes a temporary file beside the
target and renames it over the target only once it is complete, so a failed save never damages an existing
checkpoint.

The state may hold tensors, numpy arrays (stored as tensors and given back as numpy arrays), Python scalars,
strings, ``None`` and nested dicts, lists and tuples of these.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mimo_env.atomic import write_atomic

MAGIC = b"MIMOFL-CHECKPOINT-1\n"
_DIGEST_CHARS = 64
_NDARRAY_TAG = "__ndarray__"


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupted, or belongs to another run setup."""


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {_NDARRAY_TAG: torch.from_numpy(np.ascontiguousarray(value)).clone()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_encode(v) for v in value)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot checkpoint a value of type {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_NDARRAY_TAG}:
            return value[_NDARRAY_TAG].numpy()
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_decode(v) for v in value)
    return value


def canonical_fingerprint(setup: Mapping[str, Any]) -> str:
    """A canonical JSON text of a run's setup (config fields, model, ...), compared on load."""
    return json.dumps(setup, sort_keys=True, default=repr)


def save_checkpoint(path: str | os.PathLike, state: Mapping[str, Any], *, kind: str, fingerprint: str) -> Path:
    """Write ``state`` atomically to ``path``.

    Args:
        path: target file; its folder is created if needed.
        state: the nested state to store (see the module docstring for the allowed values).
        kind: what the state is (e.g. ``"env+selector"``); checked on load.
        fingerprint: :func:`canonical_fingerprint` of the run's setup; checked on load.

    Returns:
        The path written.
    """
    buffer = io.BytesIO()
    torch.save({"kind": kind, "fingerprint": fingerprint, "state": _encode(state)}, buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest().encode("ascii")
    return write_atomic(path, lambda handle: handle.write(MAGIC + digest + b"\n" + payload))


def load_checkpoint(path: str | os.PathLike, *, kind: str, fingerprint: str | None = None) -> dict[str, Any]:
    """Read and verify a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: the checkpoint file.
        kind: the expected kind.
        fingerprint: the expected setup fingerprint, or None to skip that check.

    Returns:
        The stored state.

    Raises:
        CheckpointError: the file is missing, not a checkpoint, truncated or corrupted, of another kind, or of
            another setup (the message names the first differing setting).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise CheckpointError(f"path must be a file path, got {path!r}")
    source = Path(path)
    if not source.is_file():
        raise CheckpointError(f"checkpoint {source} does not exist")
    raw = source.read_bytes()
    header_len = len(MAGIC) + _DIGEST_CHARS + 1
    if not raw.startswith(MAGIC) or len(raw) < header_len:
        raise CheckpointError(f"{source} is not a checkpoint of this package (bad header)")
    digest, payload = raw[len(MAGIC) : header_len - 1], raw[header_len:]
    if hashlib.sha256(payload).hexdigest().encode("ascii") != digest:
        raise CheckpointError(f"{source} is truncated or corrupted (checksum mismatch); refusing to load it")
    try:
        content = torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")
    except Exception as error:  # the digest matched, so this is a file written by an incompatible version
        raise CheckpointError(f"{source} cannot be read safely: {error}") from error
    if content.get("kind") != kind:
        raise CheckpointError(f"{source} holds a {content.get('kind')!r} checkpoint, expected {kind!r}")
    if fingerprint is not None and content.get("fingerprint") != fingerprint:
        raise CheckpointError(
            f"{source} was saved for another setup: {_first_difference(content.get('fingerprint'), fingerprint)}"
        )
    return _decode(content["state"])


def _first_difference(stored: str | None, expected: str) -> str:
    """Name the first setting that differs between two fingerprints."""
    try:
        old, new = json.loads(stored or "{}"), json.loads(expected)
    except json.JSONDecodeError:
        return "the stored setup is unreadable"
    key = first_difference(old, new)
    if key is None:
        return "the setups differ"
    return f"{key} is {old.get(key)!r} in the checkpoint but {new.get(key)!r} now"


def first_difference(stored: Mapping[str, Any], current: Mapping[str, Any]) -> str | None:
    """The first key, in sorted order, whose value differs between two setups (a missing key counts as None);
    None when they agree."""
    for key in sorted(set(stored) | set(current)):
        if stored.get(key) != current.get(key):
            return key
    return None
