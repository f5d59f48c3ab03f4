"""GlassnetClassifier in scikit-learn pipelines and grid searches (digits, few epochs)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from glassnet.errors import GlassnetError  # noqa: E402
from glassnet.estimator import GlassnetClassifier  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600], X[600:900], y[600:900]


def test_pipeline_fit_predict_score(digits):
    X, y, Xt, yt = digits
    pipe = make_pipeline(MinMaxScaler(), GlassnetClassifier(hidden=(32,), epochs=30,
                                                            batch_size=32))
    pipe.fit(X, y)
    assert pipe.score(Xt, yt) > 0.85
    proba = pipe.predict_proba(Xt)
    assert proba.shape == (300, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(pipe.predict(Xt), pipe[-1].classes_[proba.argmax(axis=1)])


def test_grid_search(digits):
    X, y, _, _ = digits
    grid = GridSearchCV(
        make_pipeline(MinMaxScaler(), GlassnetClassifier(epochs=3, batch_size=32)),
        {"glassnetclassifier__hidden": [(8,), (32,)]}, cv=2)
    grid.fit(X, y)
    assert grid.best_params_["glassnetclassifier__hidden"] in [(8,), (32,)]
    assert len(grid.cv_results_["mean_test_score"]) == 2


def test_arbitrary_labels_and_binary(digits):
    X, y, _, _ = digits
    keep = (y == 3) | (y == 8)
    labels = np.where(y[keep] == 3, "three", "eight")
    clf = GlassnetClassifier(hidden=(16,), epochs=10, batch_size=16).fit(X[keep] / 16, labels)
    assert clf.classes_.tolist() == ["eight", "three"]
    assert clf.network_.n_outputs == 1  # two classes: one sigmoid unit
    assert set(clf.predict(X[keep][:20] / 16)) <= {"eight", "three"}
    assert clf.predict_proba(X[keep][:5] / 16).shape == (5, 2)
    assert clf.score(X[keep] / 16, labels) > 0.9
    assert clf.n_features_in_ == 64 and clf.n_iter_ == len(clf.history_)


def test_params_and_clone():
    clf = GlassnetClassifier(hidden=(4,), lr=0.01)
    assert clf.get_params()["hidden"] == (4,) and clf.get_params()["lr"] == 0.01
    clf.set_params(epochs=2)
    assert clone(clf).get_params()["epochs"] == 2


def test_errors(digits):
    X, y, _, _ = digits
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GlassnetClassifier().predict(X)
    with pytest.raises(GlassnetError, match="at least 2 classes"):
        GlassnetClassifier(epochs=1).fit(X[:10], np.zeros(10))
    clf = GlassnetClassifier(hidden=(4,), epochs=1).fit(X / 16, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :10])
    with pytest.raises(ValueError):
        GlassnetClassifier(epochs=1).fit(X, np.linspace(0, 1, len(X)))  # continuous target


# ---------------------------------------------------------------- scikit-learn's own suite
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402


@parametrize_with_checks([GlassnetClassifier()])
def test_sklearn_check_estimator(estimator, check):
    """scikit-learn's check_estimator, check by check, with the library's defaults."""
    check(estimator)


def test_defaults_are_the_cli_defaults():
    """The estimator's defaults are glassnet train's recommendation, read from one place."""
    from glassnet.training.defaults import recommended

    rec = recommended()
    p = GlassnetClassifier().get_params()
    assert list(p["hidden"]) == rec["hidden"] and p["activation"] == rec["activation"]
    for key in ("optimizer", "batch_size", "epochs", "early_stopping", "validation_split",
                "dtype", "lr_schedule"):
        assert p[key] == rec[key], key
    assert p["lr"] == rec["lr"] and p["init"] == rec["init"]


def test_sample_order_invariance_float32(digits):
    """A row's probabilities do not depend on the other rows of the call (float32 training)."""
    X, y, Xt, _ = digits
    clf = GlassnetClassifier(hidden=(64,), epochs=3, batch_size=32).fit(X / 16, y)
    rng = np.random.default_rng(5)
    perm = rng.permutation(len(Xt))
    p = clf.predict_proba(Xt / 16)
    # float64 rounding differs by position at 1e-16; float32 at 1e-7 (what failed before)
    np.testing.assert_allclose(p[perm], clf.predict_proba(Xt[perm] / 16), rtol=1e-12, atol=0)
    np.testing.assert_allclose(p[7:8], clf.predict_proba(Xt[7:8] / 16), rtol=1e-12, atol=0)
    # and they are the float32 network's own probabilities, to float32 precision
    np.testing.assert_allclose(p, clf.model_.predict_proba((Xt / 16).astype("float32")),
                               atol=1e-5)


def test_column_y_and_messages(digits):
    """The failures scikit-learn's suite found: a (n, 1) y, one class, y=None."""
    from sklearn.exceptions import DataConversionWarning

    X, y, _, _ = digits
    with pytest.warns(DataConversionWarning):
        clf = GlassnetClassifier(hidden=(8,), epochs=1).fit(X[:100] / 16, y[:100, None])
    assert clf.classes_.tolist() == sorted(set(y[:100].tolist()))
    with pytest.raises(ValueError, match="only one class"):
        GlassnetClassifier(epochs=1).fit(X[:10], np.ones(10))
    with pytest.raises(ValueError, match="requires y to be passed"):
        GlassnetClassifier(epochs=1).fit(X[:10], None)
