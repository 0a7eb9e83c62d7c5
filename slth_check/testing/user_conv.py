"""The conv2d under the Definition 1 properties (``pytest --slth-impl MODULE:ATTR``).

:func:`user_conv` loads the user's function once and checks its signature up front:
it is called as ``f(K, X, padding=..., stride=...)`` in the paper layout (K
``(d, d, c0, c1)``, X ``(D, D, c0)`` or ``(N, D, D, c0)``).  A function without a
``padding`` (or ``stride``) keyword implements one mode only: the user says which
with ``--slth-paddings paper`` (``--slth-strides 1``), and the properties draw only
the modes the function implements.  Anything else is one usage error naming the
option and the signature.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from slth_check.conv import PADDINGS

DEFAULT_STRIDES = (1, 2)


class UserConv:
    """A conv2d with the modes it implements: ``paddings``, ``strides``; ``spec`` names
    the user's function (None for the reference).  Called as ``f(K, X, padding=,
    stride=)``; the keywords the function does not take are not passed."""

    def __init__(self, fn: Callable[..., Any], spec: str | None, paddings: Sequence[str],
                 strides: Sequence[int], takes: tuple[bool, bool] = (True, True)) -> None:
        self.fn, self.spec = fn, spec
        self.paddings, self.strides = tuple(paddings), tuple(strides)
        self._takes_padding, self._takes_stride = takes

    def __call__(self, K: Any, X: Any, padding: str = "paper", stride: int = 1) -> Any:
        if padding not in self.paddings or stride not in self.strides:
            raise ValueError(f"{self.spec}: padding {padding!r}, stride {stride} is not among "
                             f"the modes it implements ({self.paddings}, {self.strides})")
        kw: dict[str, Any] = {}
        if self._takes_padding:
            kw["padding"] = padding
        if self._takes_stride:
            kw["stride"] = stride
        return self.fn(K, X, **kw)


def parse_paddings(text: str | None) -> tuple[str, ...] | None:
    """``--slth-paddings``: a comma-separated subset of the padding modes (None: all)."""
    if text is None:
        return None
    modes = tuple(m.strip() for m in text.split(",") if m.strip())
    bad = [m for m in modes if m not in PADDINGS]
    if not modes or bad:
        raise ValueError(f"--slth-paddings: expected a comma-separated list of {PADDINGS}, "
                         f"got {text!r}")
    return modes


def parse_strides(text: str | None) -> tuple[int, ...] | None:
    """``--slth-strides``: a comma-separated list of positive integers (None: 1, 2)."""
    if text is None:
        return None
    try:
        strides = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        strides = ()
    if not strides or min(strides) < 1:
        raise ValueError(f"--slth-strides: expected a comma-separated list of positive "
                         f"integers, got {text!r}")
    return strides


def _keywords(fn: Callable[..., Any], spec: str) -> tuple[bool, bool]:
    """Does ``fn`` take ``padding=`` and ``stride=``?  A usage error unless it takes two
    positional arguments (K, X)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: the call decides
        return True, True
    pos = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(pos) < 2 and not any(p.kind is p.VAR_POSITIONAL for p in params):
        raise ValueError(f"--slth-impl {spec}: expected a function f(K, X, *, padding=, "
                         f"stride=) taking K and X positionally, got signature "
                         f"{inspect.signature(fn)}")
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    names = {p.name for p in params if p.kind is not p.VAR_POSITIONAL}
    return var_kw or "padding" in names, var_kw or "stride" in names


def user_conv(spec: str | None, paddings: Sequence[str] | None = None,
              strides: Sequence[int] | None = None) -> UserConv:
    """The conv2d named by ``spec`` (``MODULE:ATTR``; None: :func:`slth_check.conv2d`),
    its signature checked against the modes it is said to implement (module docs)."""
    if spec is None:
        from slth_check.conv import conv2d

        return UserConv(conv2d, None, paddings or PADDINGS, strides or DEFAULT_STRIDES)
    from slth_check.validate import load_callable

    fn = load_callable(spec, what="--slth-impl")
    takes_padding, takes_stride = _keywords(fn, spec)
    if not takes_padding and tuple(paddings or ()) != ("paper",):
        raise ValueError(f"--slth-impl {spec}: its signature {inspect.signature(fn)} has no "
                         "padding= keyword; if it implements Definition 1's padding only, "
                         "say so with --slth-paddings paper")
    if not takes_stride and tuple(strides or ()) != (1,):
        raise ValueError(f"--slth-impl {spec}: its signature {inspect.signature(fn)} has no "
                         "stride= keyword; if it implements stride 1 only, say so with "
                         "--slth-strides 1")
    return UserConv(fn, spec, paddings or PADDINGS, strides or DEFAULT_STRIDES,
                    (takes_padding, takes_stride))


__all__ = ["DEFAULT_STRIDES", "UserConv", "parse_paddings", "parse_strides", "user_conv"]
