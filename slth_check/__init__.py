"""slth-check: the reference oracle for the strong lottery ticket hypothesis in CNNs.

Executable, checkable claims of da Cunha, Natale and Viennot, "Proving the
Strong Lottery Ticket Hypothesis for Convolutional Neural Networks" (ICLR 2022).
The paper's layout is the reference: kernels (d, d, c0, c1), inputs (D, D, c0).
"""

from __future__ import annotations

from .arithmetic import gamma, to_fraction, to_mpf
from .claims import REGISTRY, AuditEntry, Claim, Outcome
from .conv import (
                   conv2d,
                   conv2d_exact,
                   conv2d_mp,
                   l1,
                   l1_exact,
                   max_norm,
                   max_norm_exact,
                   pool2d,
                   relu,
)
from .network import ConvLayer, TargetCNN
from .tensors import input_from_torch, input_to_torch, kernel_from_torch, kernel_to_torch

__version__ = "0.1.0"

__all__ = [
    "REGISTRY", "AuditEntry", "Claim", "ConvLayer", "Outcome", "TargetCNN", "conv2d",
    "conv2d_exact", "conv2d_mp", "gamma", "input_from_torch", "input_to_torch",
    "kernel_from_torch", "kernel_to_torch", "l1", "l1_exact", "max_norm", "max_norm_exact",
    "pool2d", "relu", "to_fraction", "to_mpf",
]
