"""Differential testing of a user's conv2d against Definition 1
(:mod:`slth_check.validate.conv2d.core`): adapters, built-ins, generation, the grid,
tolerance, diagnosis."""

from slth_check.validate.conv2d.core import (
    BACKGROUNDS,
    BUILTINS,
    LAYOUTS,
    MAX_WORK,
    OPS,
    PRECISIONS,
    SHRINK_CALLS,
    EntryCheck,
    Precision,
    check_image,
    conv_cases,
    default_max_abs,
    fft_stages,
    from_user_layout,
    normwise_factor,
    result_to_array,
    scipy_conv2d,
    to_user_layout,
    tolerance,
    torch_conv2d,
    underflow_term,
    validate_conv2d,
)

__all__ = [
    "BACKGROUNDS", "BUILTINS", "LAYOUTS", "MAX_WORK", "OPS", "PRECISIONS", "SHRINK_CALLS",
    "EntryCheck", "Precision", "check_image", "conv_cases", "default_max_abs", "fft_stages",
    "from_user_layout", "normwise_factor", "result_to_array", "scipy_conv2d",
    "to_user_layout", "tolerance", "torch_conv2d", "underflow_term", "validate_conv2d"
]
