"""A scikit-learn compatible classifier, so glassnet works in pipelines and grid searches.

:class:`GlassnetClassifier` follows scikit-learn's conventions: every
setting is a constructor argument stored unchanged (``get_params`` /
``set_params`` come from ``BaseEstimator``), ``fit`` learns attributes whose
names end in ``_`` (``classes_``, ``n_features_in_``, ``model_``,
``network_``, ``history_``, ``n_iter_``), labels may be anything sortable
(strings, ints), and ``score`` is accuracy (``ClassifierMixin``). Inputs are
not rescaled: put a scaler in front in a pipeline, as usual in scikit-learn.

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
    random_state : int or None
        Seeds the initial weights, the split and the shuffling.
    verbose : bool
        Print one line per epoch.
    """

    def __init__(self, hidden: tuple[int, ...] = (256, 128), activation: str = "relu",
                 init: str | None = None, optimizer: str = "adam", lr: float | None = None,
                 batch_size: int = 128, epochs: int = 40, early_stopping: int = 5,
                 validation_split: float = 0.1, dtype: str = "float32",
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
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any) -> GlassnetClassifier:
        from .training import Classifier

        X = self._check_X(X, reset=True)
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise GlassnetError(f"y must be 1-D with {X.shape[0]} labels, got shape {y.shape}")
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise GlassnetError(f"a classifier needs at least 2 classes in y, got "
                                f"{self.classes_.tolist()}")
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
                                  reduce_lr_patience=2 if split else 0,
                                  seed=seed, progress=bool(self.verbose))
        self.model_ = model
        self.network_ = model.network
        self.n_iter_ = len(self.history_)
        return self

    def _check_X(self, X: Any, reset: bool = False) -> np.ndarray:
        from sklearn.utils.validation import check_array

        X = check_array(X, dtype=[np.float32, np.float64])
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but GlassnetClassifier is "
                             f"expecting {self.n_features_in_} features as input.")
        return X

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities, one column per entry of ``classes_``."""
        check_is_fitted(self, "model_")
        X = self._check_X(X)
        return self.model_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = self._check_X(X)
        return self.classes_[self.model_.predict(X)]
