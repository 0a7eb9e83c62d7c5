"""Tests that kill mutants of slth_check.certify.closed_form (scripts/mutation.py).

The sup of a linear error map over the box is worked out by hand on dyadic kernels
(comments); the witness is replayed in exact arithmetic and must attain it.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from slth_check.certify.closed_form import bias_gap, error_parts, layer_sup_error
from slth_check.conv import conv2d_exact
from slth_check.network import ConvLayer
from slth_check.pruned import PrunedLayer


def k11(v: float) -> np.ndarray:
    return np.full((1, 1, 1, 1), v)


# E = K - L = [[0.5, -0.25], [0, 0.125]] (d = 2, c0 = c1 = 1); positive part sums to 5/8 and
# is reached first (row-major) where the whole kernel lies inside X: output (1, 1) with
# padding "paper" (full convolution, first D rows kept), (0, 0) with "valid".
E2 = np.array([[0.5, -0.25], [0.0, 0.125]]).reshape(2, 2, 1, 1)


def replay(K, L, X, idx, db=None, padding="paper", stride=1) -> Fraction:
    # K - L is exact in float64 for these dyadic entries; conv2d_exact sums in rationals
    Y = conv2d_exact(np.asarray(K, dtype=float) - np.asarray(L, dtype=float), X,
                     padding=padding, stride=stride)
    v = Fraction(Y.item(idx))
    return abs(v + Fraction(db[idx[2]])) if db is not None else abs(v)


def test_error_parts_by_hand():
    pos, neg = error_parts(np.array([0.5, -0.25]), np.array([0.25, 0.25]))
    # E = [0.25, -0.5]
    assert pos.tolist() == [Fraction(1, 4), 0] and neg.tolist() == [0, Fraction(1, 2)]


@pytest.mark.parametrize(("K", "L", "M", "db", "value", "X00"), [
    (0.5, 0.25, 1, None, Fraction(1, 4), 1.0),           # E = 1/4, X = 1 where E > 0
    (0.5, 0.25, 2, None, Fraction(1, 2), 2.0),           # M = 2 doubles it
    (-0.5, 0.25, 1, None, Fraction(3, 4), 1.0),          # E = -3/4: the negative side
    (0.5, 0.25, 1, [-0.5], Fraction(1, 2), 0.0),  # up 1/4 - 1/2, down 0 + 1/2: 1/2, X = 0
    (0.5, 0.25, 1, [0.5], Fraction(3, 4), 1.0),          # 1/4 + 1/2
    (0.25, 0.25, 1, None, Fraction(0), 0.0),             # K = L: error 0, no exception
])
def test_1x1_by_hand(K, L, M, db, value, X00):
    dbv = None if db is None else np.array(db)
    got, idx, X = layer_sup_error(k11(K), k11(L), 2, M=Fraction(M), db=dbv)
    assert got == value
    assert idx == (0, 0, 0)
    assert X.shape == (2, 2, 1) and X[0, 0, 0] == X00
    assert replay(k11(K), k11(L), X, idx, dbv) == value


@pytest.mark.parametrize(("padding", "stride", "idx", "ones"), [
    ("paper", 1, (1, 1, 0), [(0, 0), (1, 1)]),   # P = Q = 1: X[1-a, 1-b] for E[a, b] > 0
    ("valid", 1, (0, 0, 0), [(0, 0), (1, 1)]),   # start d - 1 = 1: the same window
    ("paper", 2, (1, 1, 0), [(1, 1), (2, 2)]),   # output (1, 1) is full position (2, 2)
])
def test_2x2_kernel_by_hand(padding, stride, idx, ones):
    got, where, X = layer_sup_error(E2, np.zeros_like(E2), 3, padding=padding, stride=stride)
    assert got == Fraction(5, 8) and where == idx
    assert sorted(zip(*np.nonzero(X[:, :, 0]))) == ones
    assert replay(E2, np.zeros_like(E2), X, idx, padding=padding, stride=stride) == Fraction(5, 8)


def test_negative_side_witness_by_hand():
    # -E2: the negative part sums to 5/8; X = 1 where E < 0, i.e. at the same positions
    got, idx, X = layer_sup_error(-E2, np.zeros_like(E2), 3)
    assert got == Fraction(5, 8) and idx == (1, 1, 0)
    assert sorted(zip(*np.nonzero(X[:, :, 0]))) == [(0, 0), (1, 1)]


def test_empty_output_refused():
    with pytest.raises(ValueError, match="X: padding='valid' needs|D: the output"):
        layer_sup_error(E2, np.zeros_like(E2), 1, padding="valid")


def test_bias_gap_by_hand():
    # kept random biases Ub . Sb = (0.5, 0), V . T = (0.5, 0.25): b~ = 0.5 * 0.5 = 1/4;
    # target bias 3/4: b - b~ = 1/2
    U = np.full((1, 1, 1, 2), 0.5)
    V = np.array([0.5, 0.25]).reshape(1, 1, 2, 1)
    P = PrunedLayer(U, V, np.ones(U.shape, bool), np.ones(V.shape, bool),
                    np.array([0.5, 1.0]), np.array([True, False]))
    gap = bias_gap(ConvLayer(k11(0.5), bias=np.array([0.75])), P)
    assert gap.tolist() == [Fraction(1, 2)]
    assert all(type(v) is Fraction for v in gap.tolist())  # exact, not a float difference
    assert bias_gap(ConvLayer(k11(0.5)), P) is None


def test_witness_ignores_kernel_entries_outside_the_input():
    # d = 3, D = 2, padding "paper"; E[0,0] = -1/4, E[0,1] = E[1,0] = 1/2, E[1,1] = 1/4,
    # E[2,0] = 1/8.  Output (1, 1) sees E[0:2, 0:2]: up = 1/2 + 1/2 + 1/4 = 5/4 (the max).
    # Witness X[1-a, 1-b] = 1 for E[a,b] > 0 inside: X = [[1, 1], [1, 0]]; E[2,0] lies at
    # row -1, outside the input, and must not wrap onto X[1, 1]
    E = np.zeros((3, 3, 1, 1))
    E[0, 0], E[0, 1], E[1, 0], E[1, 1], E[2, 0] = -0.25, 0.5, 0.5, 0.25, 0.125
    got, idx, X = layer_sup_error(E, np.zeros_like(E), 2)
    assert got == Fraction(5, 4) and idx == (1, 1, 0)
    assert X[:, :, 0].tolist() == [[1.0, 1.0], [1.0, 0.0]]


def test_witness_at_the_far_edge_of_a_full_convolution():
    # padding "full", D = 1, E = [[1/8, 1/8], [1/8, 1/2]]: outputs (0,0), (0,1), (1,0) = 1/8 and
    # (1,1) = 1/2 (the max); at (1,1) only E[1,1] meets X[0,0]: E[0,0], E[0,1], E[1,0] would
    # need X[1,1], X[1,0], X[0,1], outside the 1 x 1 input: X = [[1]]
    E = np.array([[0.125, 0.125], [0.125, 0.5]]).reshape(2, 2, 1, 1)
    got, idx, X = layer_sup_error(E, np.zeros_like(E), 1, padding="full")
    assert got == Fraction(1, 2) and idx == (1, 1, 0) and X.tolist() == [[[1.0]]]


def test_witness_row_and_column_not_swapped():
    # E = [[0, 1/2], [0, 0]], D = 3, padding "paper": the max 1/2 is first reached at output
    # (0, 1) (row 0, column 1), where E[0,1] meets X[0 - 0, 1 - 1] = X[0, 0]
    E = np.array([[0.0, 0.5], [0.0, 0.0]]).reshape(2, 2, 1, 1)
    got, idx, X = layer_sup_error(E, np.zeros_like(E), 3)
    assert got == Fraction(1, 2) and idx == (0, 1, 0)
    assert sorted(zip(*np.nonzero(X[:, :, 0]))) == [(0, 0)]
