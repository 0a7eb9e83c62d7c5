"""One case of ``validate conv2d``: the user's function computed on (K, X) in its layout
and checked entry by entry against Definition 1
(:func:`~slth_check.validate.conv2d.tolerance.check_image`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slth_check.conv import Padding
from slth_check.precision import Precision
from slth_check.validate.conv2d.adapters import from_user_layout, to_user_layout
from slth_check.validate.conv2d.tolerance import check_image
from slth_check.validate.sandbox import UserCodeFailure
from slth_check.validate.user_function import UserFunction


@dataclass
class Problem:
    detail: str
    fatal: bool = False
    got: np.ndarray | None = None


@dataclass
class Case:
    """How one case is computed by the user's function and checked."""

    fn: UserFunction
    layout: str
    op: str
    padding: Padding
    p: Precision
    rtol: float
    stride: int = 1

    def evaluate(self, case: tuple[np.ndarray, np.ndarray]) -> Problem | None:
        K, X = case
        A, Xu = to_user_layout(K, X, self.layout, self.op)
        try:
            Y = self.fn.call(A, Xu, during="while computing the case")
            Y = from_user_layout(Y, self.layout)
        except UserCodeFailure as exc:
            return Problem(f"the implementation {exc}", fatal=exc.fatal)
        except ValueError as exc:  # e.g. an output that is not 4-dimensional
            return Problem(f"unusable output ({exc})")
        return self.check_output(K, X, Y)

    def check_output(self, K: np.ndarray, X: np.ndarray, Y: np.ndarray,
                     exact: bool = False) -> Problem | None:
        if Y.ndim != 4 or len(Y) != len(X):
            return Problem(f"output shape {Y.shape} for an input batch of {len(X)}", got=Y)
        for n in range(X.shape[0]):
            res = check_image(K, X[n], Y[n], padding=self.padding, precision=self.p.name,
                              rtol=self.rtol, exact=exact, stride=self.stride)
            if not res.ok:
                where = f"image {n}: " if X.shape[0] > 1 else ""
                return Problem(where + res.detail, got=Y)
        return None


__all__ = ["Case", "Problem"]
