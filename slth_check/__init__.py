"""slth-check: the reference oracle for the strong lottery ticket hypothesis in CNNs.

Executable, checkable claims of da Cunha, Natale and Viennot, "Proving the
Strong Lottery Ticket Hypothesis for Convolutional Neural Networks" (ICLR 2022).
The paper's layout is the reference: kernels (d, d, c0, c1), inputs (D, D, c0).

The public names below are imported on first use (PEP 562), so that importing
the package (as pytest does for its plugin) costs nothing until they are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

#: The one source of the version (pyproject.toml reads it from here).
__version__ = "0.2.0"

_EXPORTS = {
    "gamma": "arithmetic", "to_fraction": "arithmetic", "to_mpf": "arithmetic",
    "REGISTRY": "claims", "AuditEntry": "claims", "Claim": "claims", "Outcome": "claims",
    "conv2d": "conv", "conv2d_exact": "conv", "conv2d_mp": "conv", "l1": "conv",
    "l1_exact": "conv", "max_norm": "conv", "max_norm_exact": "conv", "pool2d": "conv",
    "relu": "conv",
    "ConvLayer": "network", "TargetCNN": "network", "PrunedLayer": "pruned",
    "PrunedCNN": "pruned",
    "input_from_torch": "tensors", "input_to_torch": "tensors",
    "kernel_from_torch": "tensors", "kernel_to_torch": "tensors",
}

__all__ = [
    "REGISTRY", "AuditEntry", "Claim", "ConvLayer", "Outcome", "PrunedCNN", "PrunedLayer",
    "TargetCNN", "conv2d", "conv2d_exact", "conv2d_mp", "gamma", "input_from_torch",
    "input_to_torch", "kernel_from_torch", "kernel_to_torch", "l1", "l1_exact", "max_norm",
    "max_norm_exact", "pool2d", "relu", "to_fraction", "to_mpf",
]


def _module(name: str) -> Any:
    """The submodule ``name`` of :data:`_EXPORTS`, imported on first use."""
    if name == "arithmetic":
        from slth_check import arithmetic

        return arithmetic
    if name == "claims":
        from slth_check import claims

        return claims
    if name == "conv":
        from slth_check import conv

        return conv
    if name == "network":
        from slth_check import network

        return network
    if name == "pruned":
        from slth_check import pruned

        return pruned
    from slth_check import tensors

    return tensors


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'slth_check' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from slth_check.arithmetic import gamma, to_fraction, to_mpf
    from slth_check.claims import REGISTRY, AuditEntry, Claim, Outcome
    from slth_check.conv import (
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
    from slth_check.network import ConvLayer, TargetCNN
    from slth_check.pruned import PrunedCNN, PrunedLayer
    from slth_check.tensors import (
        input_from_torch,
        input_to_torch,
        kernel_from_torch,
        kernel_to_torch,
    )
