"""Metrics against scikit-learn on random predictions, and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from glassnet.errors import GlassnetError
from glassnet.metrics import (
    accuracy,
    classification_metrics,
    confusion_matrix,
    format_metrics,
    precision_recall_f1,
)


@st.composite
def predictions(draw):
    k = draw(st.integers(2, 6))
    n = draw(st.integers(1, 60))
    labels = st.lists(st.integers(0, k - 1), min_size=n, max_size=n)
    # predictions drawn from a subset of the classes, so some are never predicted
    pred_classes = draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True))
    y_pred = draw(st.lists(st.sampled_from(pred_classes), min_size=n, max_size=n))
    return k, np.array(draw(labels)), np.array(y_pred)


@settings(max_examples=60, deadline=None)
@given(predictions())
def test_against_sklearn(case):
    k, y_true, y_pred = case
    labels = list(range(k))
    m = classification_metrics(y_true, y_pred, k)
    np.testing.assert_array_equal(m["confusion_matrix"],
                                  skm.confusion_matrix(y_true, y_pred, labels=labels))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert m["n"] == len(y_true)
    if k == 2:
        kw = {"pos_label": 1, "average": "binary", "zero_division": 0}
    else:
        kw = {"labels": labels, "average": "macro", "zero_division": 0}
    assert m["precision"] == pytest.approx(skm.precision_score(y_true, y_pred, **kw))
    assert m["recall"] == pytest.approx(skm.recall_score(y_true, y_pred, **kw))
    assert m["f1"] == pytest.approx(skm.f1_score(y_true, y_pred, **kw))
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                     zero_division=0)
    for c, row in enumerate(m["per_class"]):
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((p[c], r[c], f[c]))
        assert row["support"] == s[c]


def test_by_hand_binary():
    # true:  1 1 1 0 0 ; pred: 1 1 0 1 0  -> tp 2, fp 1, fn 1, tn 1
    m = classification_metrics([1, 1, 1, 0, 0], [1, 1, 0, 1, 0])
    assert m["confusion_matrix"] == [[1, 1], [1, 2]]
    assert m["accuracy"] == 0.6
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3) and m["average"] == "binary"


def test_zero_division_is_zero():
    # class 2 never predicted and never present; class 1 present but never predicted
    prec, rec, f1 = precision_recall_f1(confusion_matrix([0, 0, 1], [0, 0, 0], 3))
    assert prec.tolist() == pytest.approx([2 / 3, 0, 0])
    assert rec.tolist() == [1, 0, 0] and f1.tolist() == pytest.approx([0.8, 0, 0])
    m = classification_metrics([0, 0, 1], [0, 0, 0], 3)
    assert m["precision"] == pytest.approx(2 / 9)  # the macro mean includes the absent class


def test_rows_are_true_columns_predicted():
    cm = confusion_matrix([0, 0, 0, 1], [1, 1, 0, 1])
    assert cm.tolist() == [[1, 2], [0, 1]] and cm.dtype == np.int64


def test_errors():
    with pytest.raises(GlassnetError, match="out of range"):
        confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(GlassnetError, match="has 2 labels but y_pred has 1"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(GlassnetError, match="integer"):
        confusion_matrix([0.5], [0])
    with pytest.raises(GlassnetError, match="negative"):
        confusion_matrix([-1], [0])
    with pytest.raises(GlassnetError, match="empty"):
        classification_metrics([], [], 2)
    with pytest.raises(GlassnetError, match="class names"):
        classification_metrics([0, 1], [0, 1], 2, class_names=["a"])


def test_format_metrics_mentions_everything():
    m = classification_metrics([0, 1, 2, 2], [0, 2, 2, 2], 3, class_names=["a", "b", "c"],
                               loss=0.25)
    text = format_metrics(m)
    assert "accuracy   75.00%" in text and "loss       0.2500" in text
    assert "macro average" in text and "rows = true class" in text
    assert text.splitlines()[-1].split() == ["c", "0", "0", "2"]
