"""A scikit-learn compatible classifier, so glassnet works in pipelines and grid searches.

:class:`GlassnetClassifier` follows scikit-learn's conventions: every
setting is a constructor argument stored unchanged (``get_params`` /
``set_params`` come from ``BaseEstimator``), ``fit`` learns attributes whose
names end in ``_`` (``classes_``, ``n_features_in_``, ``model_``,
``network_``, ``history_``, ``n_iter_``), labels may be anything sortable
(strings, ints), and ``score`` is accuracy (``ClassifierMixin``). Inputs are
not rescaled: put a scaler in front in a pipeline, as usual in scikit-learn.
It passes scikit-learn's own ``check_estimator`` suite (tests/test_estimator.py).

Its defaults are those of ``glassnet train`` (:mod:`glassnet.training.defaults`):
ReLU 512-256, He init, Adam 1e-3 with the step schedule, batch 128, up to
40 epochs, early stopping with patience 10 on a 10 % validation split.

Training runs in the network's dtype (float32 by default: fast), but
``predict_proba`` and ``predict`` run a float64 copy of the trained weights:
scikit-learn requires that a row's probabilities do not depend on which
other rows share the call, and a float32 matrix product rounds differently
depending on where a row falls in the blocks of the computation.

This module imports scikit-learn, so ``import glassnet`` never loads it.

>>> from sklearn.datasets import load_digits
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import MinMaxScaler
>>> X, y = load_digits(return_X_y=True)
>>> pipe = make_pipeline(MinMaxScaler(), GlassnetClassifier(hidden=(32,), epochs=5))
>>> _ = pipe.fit(X[:500], y[:500])
>>> pipe.predict(X[:3]).shape
(3,)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .errors import GlassnetError

__all__ = ["GlassnetClassifier"]


class GlassnetClassifier(ClassifierMixin, BaseEstimator):
    """Multilayer perceptron classifier trained by glassnet's fit loop.

    Parameters
    ----------
    hidden : tuple of int
        Hidden layer sizes.
    activation : str
        Hidden activation (``relu``, ``tanh``, ``sigmoid``, ``leaky_relu``).
    init : str or None
        Weight initializer; None matches it to the activation.
    optimizer : str
        ``adam``, ``sgd`` or ``momentum``.
    lr : float or None
        Learning rate; None takes the optimizer's recommended one.
    batch_size, epochs : int
        Mini-batch size and maximum epochs.
    early_stopping : int
        Patience on the validation loss (best weights restored); 0 = off.
    validation_split : float
        Share of the training rows held out (stratified); 0 = none (then
        early stopping is off).
    dtype : str
        ``float32`` (fast) or ``float64``.
    lr_schedule : str
        ``step`` (multiply the learning rate by 0.3 after 50 % and 75 % of the
        epochs), ``plateau`` (halve it when the validation loss stalls for 2
        epochs) or ``none``.
    random_state : int or None
        Seeds the initial weights, the split and the shuffling.
    verbose : bool
        Show the progress display (one line per epoch).
    """

    def __init__(self, hidden: tuple[int, ...] = (512, 256), activation: str = "relu",
                 init: str | None = None, optimizer: str = "adam", lr: float | None = None,
                 batch_size: int = 128, epochs: int = 40, early_stopping: int = 10,
                 validation_split: float = 0.1, dtype: str = "float32",
                 lr_schedule: str = "step",
                 random_state: int | None = 0, verbose: bool = False):
        self.hidden = hidden
        self.activation = activation
        self.init = init
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_split = validation_split
        self.dtype = dtype
        self.lr_schedule = lr_schedule
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any) -> GlassnetClassifier:
        from sklearn.utils.validation import validate_data

        from .training import Classifier

        # scikit-learn's own checks and messages: y=None, a (n, 1) column y (warned and
        # raveled), shapes, NaN, n_features_in_
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], y_numeric=False)
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise GlassnetError(f"y has only one class ({self.classes_[0]!r}); a classifier "
                                "needs at least 2 classes")
        seed = self.random_state
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise GlassnetError("random_state must be an int or None (a RandomState "
                                "object is not supported)")
        model = Classifier.build(X.shape[1], [str(c) for c in self.classes_],
                                 hidden=tuple(self.hidden), activation=self.activation,
                                 init=self.init, dtype=self.dtype, seed=seed)
        split = self.validation_split
        patience = self.early_stopping if split else 0
        self.history_ = model.fit(X.astype(model.network.dtype, copy=False), y_idx,
                                  epochs=self.epochs, batch_size=self.batch_size,
                                  optimizer=self.optimizer, lr=self.lr, validation_split=split,
                                  early_stopping=patience,
                                  lr_schedule=self.lr_schedule if split or
                                  self.lr_schedule != "plateau" else "none",
                                  seed=seed, progress=bool(self.verbose))
        self.model_ = model
        self.network_ = model.network
        self.n_iter_ = len(self.history_)
        self._model64 = Classifier(model.network.copy("float64"), model.class_names,
                                   preprocessing=model.preprocessing)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities (float64), one column per entry of ``classes_``."""
        from sklearn.utils.validation import validate_data

        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self._model64.predict_proba(X.astype(np.float64, copy=False))

    def predict(self, X: Any) -> np.ndarray:
        """The class of each row: the most probable (two classes: ``classes_[1]`` if p >= 0.5)."""
        proba = self.predict_proba(X)
        if proba.shape[1] == 2:  # the decision rule of training: p(positive) >= 0.5
            return self.classes_[(proba[:, 1] >= 0.5).astype(np.int64)]
        return self.classes_[proba.argmax(axis=1)]
