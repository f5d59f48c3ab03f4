"""Stratified split (hypothesis properties), class selection, one-hot."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.data import DataError, one_hot, select_classes, stratified_split


def expected_val_count(count: int, fraction: float) -> int:
    """The documented rule, written independently: round half up, >= 1 if count >= 2, < count."""
    if fraction == 0 or count == 0:
        return 0
    k = int(math.floor(fraction * count + 0.5))
    if count >= 2:
        k = max(k, 1)
    return min(k, count - 1)


labels = st.lists(st.integers(0, 6), min_size=0, max_size=300)
fractions = st.floats(0.0, 0.99, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(labels, fractions, st.integers(0, 2**32 - 1))
def test_stratified_split_properties(y, fraction, seed):
    y = np.array(y, dtype=np.int64)
    train_idx, val_idx = stratified_split(y, fraction, seed)
    for idx in (train_idx, val_idx):
        assert idx.dtype == np.int64 and idx.ndim == 1
        assert np.all(np.diff(idx) > 0)  # sorted, no repeats
    # disjoint and covering everything
    assert len(np.intersect1d(train_idx, val_idx)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train_idx, val_idx])),
                                  np.arange(len(y)))
    # each class contributes its share, and keeps at least one training sample
    for c in np.unique(y):
        count = int(np.sum(y == c))
        in_val = int(np.sum(y[val_idx] == c))
        assert in_val == expected_val_count(count, fraction)
        assert int(np.sum(y[train_idx] == c)) >= 1
        if 1 < in_val < count - 1:  # neither floor (1) nor ceiling (count - 1) applied
            assert abs(in_val - fraction * count) <= 0.5
    # reproducible from the seed
    again = stratified_split(y, fraction, seed)
    np.testing.assert_array_equal(again[1], val_idx)


def test_split_is_random_within_class_not_the_tail():
    y = np.repeat([0, 1], 100)
    _, val_idx = stratified_split(y, 0.1, seed=0)
    assert np.bincount(y[val_idx]).tolist() == [10, 10]
    # not "the last 10 of each class": positions spread over the class
    assert val_idx[y[val_idx] == 0].min() < 80
    _, other = stratified_split(y, 0.1, seed=1)
    assert not np.array_equal(val_idx, other)


def test_split_accepts_a_generator_and_string_labels():
    rng = np.random.default_rng(5)
    y = np.array(list("aabbbbcccc"))
    train_idx, val_idx = stratified_split(y, 0.5, rng)
    assert sorted(y[val_idx].tolist()) == ["a", "b", "b", "c", "c"]
    assert len(train_idx) == 5


def test_split_edge_cases():
    y = np.array([3, 3, 3, 9])  # class 9 has one sample: stays in training
    train_idx, val_idx = stratified_split(y, 0.3, seed=0)
    assert 3 in train_idx and len(val_idx) == 1 and y[val_idx[0]] == 3
    train_idx, val_idx = stratified_split(y, 0.0, seed=0)
    assert train_idx.tolist() == [0, 1, 2, 3] and val_idx.tolist() == []
    train_idx, val_idx = stratified_split(np.array([], dtype=int), 0.2, seed=0)
    assert len(train_idx) == len(val_idx) == 0


@pytest.mark.parametrize("fraction", [1.0, -0.1, 1.5, float("nan"), "0.1", True, None])
def test_split_rejects_bad_fractions(fraction):
    with pytest.raises(DataError, match=r"in \[0, 1\)"):
        stratified_split(np.array([0, 1, 0, 1]), fraction, seed=0)


def test_split_rejects_2d_labels():
    with pytest.raises(DataError, match="1-D"):
        stratified_split(np.zeros((3, 2)), 0.1, seed=0)


# --- select_classes --------------------------------------------------------------------------

def test_select_classes_order_defines_new_labels():
    y = np.array([4, 5, 6, 5, 6, 7, 6])
    X = np.arange(7)[:, None] * np.array([[1.0, 10.0]])
    Xs, ys = select_classes(X, y, [6, 5])
    assert ys.dtype == np.int64
    assert ys.tolist() == [1, 0, 1, 0, 0]  # 5 -> 1, 6 -> 0; sample order kept
    np.testing.assert_array_equal(Xs[:, 0], [1, 2, 3, 4, 6])
    Xs2, ys2 = select_classes(X, y, [5, 6])
    assert ys2.tolist() == [0, 1, 0, 1, 1]  # the second listed class is the positive one
    assert X[0, 0] == 0 and Xs2.base is not X  # a copy, input untouched


def test_select_classes_errors():
    y = np.array([0, 1, 2, 1])
    X = np.zeros((4, 2))
    with pytest.raises(DataError) as info:
        select_classes(X, y, [1, 7, 8])
    assert "7, 8" in str(info.value) and "available classes: 0, 1, 2" in str(info.value)
    with pytest.raises(DataError, match="more than once: 1"):
        select_classes(X, y, [1, 2, 1])
    with pytest.raises(DataError, match="no classes"):
        select_classes(X, y, [])
    with pytest.raises(DataError, match="3 rows but y has 4"):
        select_classes(X[:3], y, [1])


def test_select_classes_matches_a_plain_loop():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 10, 500)
    X = rng.normal(size=(500, 3))
    classes = [9, 2, 4]
    Xs, ys = select_classes(X, y, classes)
    rows = [i for i in range(500) if y[i] in classes]
    np.testing.assert_array_equal(Xs, X[rows])
    assert ys.tolist() == [classes.index(y[i]) for i in rows]


# --- one_hot ---------------------------------------------------------------------------------

def test_one_hot():
    T = one_hot(np.array([2, 0, 1, 2]), 3)
    assert T.dtype == np.float32 and T.shape == (4, 3)
    np.testing.assert_array_equal(T, np.eye(3, dtype=np.float32)[[2, 0, 1, 2]])
    assert one_hot([1], 2, dtype=np.float64).dtype == np.float64
    assert one_hot(np.array([], dtype=int), 4).shape == (0, 4)
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0]), 2), [[0, 1], [1, 0]])


def test_one_hot_errors():
    with pytest.raises(DataError, match=r"label 3 is out of range; expected 0 \.\. 2"):
        one_hot([0, 3], 3)
    with pytest.raises(DataError, match="label -1"):
        one_hot([-1], 3)
    with pytest.raises(DataError, match="integers"):
        one_hot([0.5], 3)
    with pytest.raises(DataError, match="positive integer"):
        one_hot([0], 0)
    with pytest.raises(DataError, match="1-D"):
        one_hot([[0]], 2)
