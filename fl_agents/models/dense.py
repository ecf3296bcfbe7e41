"""A linear layer stored input-major (``weight : [in, out]``), friendly to ``vmap``-batched training.

``y = x @ W + b``. Under ``vmap`` over stacked weights the weight gradient ``x^T g`` comes out in the weight's own
``[S, in, out]`` layout, whereas ``nn.Linear`` (``[out, in]``) gets a transposed gradient that autograd must copy
into place every step. Initialisation matches ``nn.Linear``: ``U(-1/sqrt(in), 1/sqrt(in))`` for weight and bias.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Dense(nn.Module):
    """``[..., in] -> [..., out]``, ``y = x @ weight + bias`` with ``weight : [in, out]``, ``bias : [out]``."""

    def __init__(self, num_in: int, num_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(num_in)
        self.weight = nn.Parameter(torch.empty(num_in, num_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(num_out).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight + self.bias
