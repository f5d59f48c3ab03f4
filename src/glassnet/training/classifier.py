"""Classifier: a network plus what it takes to use it (class names, preprocessing, provenance).

A bare :class:`~glassnet.Network` maps numbers to numbers. A classifier also
knows which class each output means, what the inputs must look like (number
of features, image shape, scaling), which dataset it came from and how it was
trained; that is what ``glassnet predict`` needs, and what a model directory
stores (see :mod:`glassnet.model_io`).

Two classes make a binary task with one sigmoid output and binary
cross-entropy (the second class is the positive one); more classes use a
softmax output and cross-entropy. Both are the canonical pairs whose output
delta is y − t.

>>> import numpy as np
>>> from glassnet.data import load_dataset
>>> train = load_dataset("digits", "train", classes=[5, 6])
>>> clf = Classifier.build(64, train.class_names, hidden=[32], seed=0)
>>> h = clf.fit(train.X, train.y, epochs=5, batch_size=32, progress=False)
>>> clf.network.sizes, clf.task, clf.predict_proba(train.X[:2]).shape
([64, 32, 1], 'binary', (2, 2))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._version import __version__
from ..data.preprocess import pixel_divisor
from ..errors import GlassnetError, unknown_name
from ..network import Network
from .augment import parse_augment
from .callbacks import Callback, EarlyStopping, KeepBest, ReduceLROnPlateau, StepDecay
from .defaults import DEFAULTS, default_init, default_lr
from .fit import EVAL_CHUNK, _as_inputs, fit, predict_labels, prepare_targets
from .history import History

__all__ = ["Classifier"]

#: what ReduceLROnPlateau multiplies the learning rate by (lr_schedule="plateau")
PLATEAU_FACTOR = 0.5
#: the learning-rate schedules Classifier.fit (and ``glassnet train --lr-schedule``) knows
LR_SCHEDULES = ("step", "plateau", "none")


def _lr_schedule(name: str | None, patience: int | None) -> tuple[str, int]:
    """Resolve (lr_schedule, reduce_lr_patience) to a schedule name and a plateau patience."""
    if patience is not None and (isinstance(patience, bool)
                                 or not isinstance(patience, (int, np.integer)) or patience < 0):
        raise GlassnetError(f"reduce_lr_patience must be an integer >= 0, got {patience!r}")
    if name is None:
        if patience is None:
            name = DEFAULTS["lr_schedule"]
        else:
            name = "plateau" if patience > 0 else "none"
    if name not in LR_SCHEDULES:
        raise unknown_name("learning-rate schedule", name, LR_SCHEDULES)
    if name == "plateau":
        if patience == 0:
            raise GlassnetError("lr_schedule 'plateau' needs reduce_lr_patience >= 1")
        return name, int(patience or DEFAULTS["reduce_lr_patience"])
    if patience:
        raise GlassnetError(f"reduce_lr_patience={patience} applies only to "
                            f"lr_schedule='plateau', not {name!r}")
    return name, 0


class Classifier:
    """A trained (or trainable) classification network with its metadata.

    Attributes: ``network``, ``class_names``, ``preprocessing`` (dict:
    ``n_features``, ``image_shape``, ``scaling``), ``dataset`` (dict or None),
    ``training`` (summary of the last fit, or None), ``history`` (History of
    the last fit in this process, or None).
    """

    def __init__(self, network: Network, class_names: Sequence[Any], *,
                 preprocessing: dict[str, Any] | None = None,
                 dataset: dict[str, Any] | None = None,
                 training: dict[str, Any] | None = None):
        names = [str(c) for c in class_names]
        if len(names) < 2:
            raise GlassnetError(f"a classifier needs at least 2 classes, got {names}")
        if len(set(names)) != len(names):
            raise GlassnetError(f"class names must be distinct, got {names}")
        expected = 1 if len(names) == 2 else len(names)
        if network.n_outputs != expected:
            raise GlassnetError(
                f"{len(names)} classes need {expected} output unit(s), the network has "
                f"{network.n_outputs}")
        self.network = network
        self.class_names = names
        pre = {"n_features": network.n_inputs, "image_shape": None, "scaling": "none"}
        pre.update(preprocessing or {})
        if pre["n_features"] != network.n_inputs:
            raise GlassnetError(f"preprocessing n_features {pre['n_features']} does not match "
                                f"the network's {network.n_inputs} inputs")
        if pre["image_shape"] is not None:
            shape = [int(s) for s in pre["image_shape"]]
            if len(shape) != 2 or shape[0] * shape[1] != network.n_inputs:
                raise GlassnetError(f"image_shape {pre['image_shape']} does not hold "
                                    f"{network.n_inputs} pixels")
            pre["image_shape"] = shape
        pixel_divisor(pre["scaling"])  # a scaling predict could not apply is refused here
        if "mean" in pre or "scale" in pre:  # standardized features (glassnet train --data)
            from ..data.userdata import check_standardizer

            check_standardizer(pre, network.n_inputs)
        self.preprocessing = pre
        self.dataset = dataset
        self.training = training
        self.history: History | None = None

    # ------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        n_features: int,
        class_names: Sequence[Any] | int,
        *,
        hidden: Sequence[int] = tuple(DEFAULTS["hidden"]),
        activation: str = DEFAULTS["activation"],
        init: str | dict | None = None,
        dtype: str = DEFAULTS["dtype"],
        seed: int | None = 0,
        image_shape: Sequence[int] | None = None,
        scaling: str = "none",
        dataset: dict[str, Any] | None = None,
    ) -> Classifier:
        """A fresh network for ``class_names`` (or a number of classes) on ``n_features`` inputs.

        ``init`` defaults to the initializer matched to ``activation`` (He for
        ReLU, Glorot otherwise); biases start at 0; the loss is averaged over
        each mini-batch (``reduction="mean"``).
        """
        if isinstance(class_names, (int, np.integer)) and not isinstance(class_names, bool):
            class_names = [str(i) for i in range(int(class_names))]
        names = [str(c) for c in class_names]
        hidden = list(hidden)
        for h in hidden:
            if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
                raise GlassnetError(f"hidden layer sizes must be positive integers, got {hidden}")
        binary = len(names) == 2
        act_name = activation if isinstance(activation, str) else getattr(activation, "name", "")
        net = Network(
            [int(n_features), *[int(h) for h in hidden], 1 if binary else len(names)],
            [activation] * len(hidden) + ["sigmoid" if binary else "softmax"],
            "binary_cross_entropy" if binary else "cross_entropy",
            weights=init if init is not None else default_init(act_name),
            biases=0.0, reduction="mean", dtype=dtype, seed=seed,
        )
        return cls(net, names, dataset=dataset, preprocessing={
            "n_features": int(n_features),
            "image_shape": list(image_shape) if image_shape is not None else None,
            "scaling": scaling})

    # ----------------------------------------------------------------- info
    @property
    def task(self) -> str:
        return "binary" if len(self.class_names) == 2 else "multiclass"

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        return self.network.n_inputs

    @property
    def image_shape(self) -> tuple[int, int] | None:
        s = self.preprocessing.get("image_shape")
        return None if s is None else (int(s[0]), int(s[1]))

    def __repr__(self) -> str:
        return (f"Classifier({self.network.sizes}, task={self.task!r}, "
                f"classes={self.class_names!r})")

    @property
    def pixel_divisor(self) -> float | None:
        """N of the input scaling ``"pixel / N"`` (16 for digits, 255 for MNIST), else None.

        The built-in datasets store raw pixels (digits 0..16, MNIST 0..255);
        their models were trained on the pixels divided by N, which
        :func:`~glassnet.data.load_dataset` does when it loads them.

        >>> Classifier.build(4, 3, hidden=[2], scaling="pixel / 16").pixel_divisor
        16.0
        """
        return pixel_divisor(self.preprocessing.get("scaling"))

    def transform(self, X: Any) -> Any:
        """The network's inputs for rows ``X`` as glassnet's loaders give them.

        Only a model that stores a per-feature ``mean`` and ``scale`` (trained
        with ``glassnet train --data``) changes anything: ``(X - mean) / scale``,
        the scaling learned on its training rows. Other inputs pass unchanged:
        :func:`~glassnet.data.load_dataset` has already divided the pixels.
        For rows as the dataset stores them see :meth:`network_inputs` with
        ``raw=True``.
        """
        pre = self.preprocessing
        if "mean" not in pre:
            return X
        from ..data.userdata import standardize

        try:
            X = np.asarray(X)
        except (TypeError, ValueError) as exc:
            raise GlassnetError(f"X: not a rectangular array of numbers: {exc}") from None
        if X.dtype.kind not in "fiub" or X.ndim != 2 or X.shape[1] != self.n_features:
            X = _as_inputs(X, self.network, "X")  # raises the engine's clear message
        return standardize(X, pre, self.network.dtype)  # in float64: no rounding before scaling

    # ------------------------------------------------------------- training
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int = DEFAULTS["epochs"],
        batch_size: int = DEFAULTS["batch_size"],
        optimizer: Any = DEFAULTS["optimizer"],
        lr: float | None = None,
        validation_split: float = DEFAULTS["validation_split"],
        validation_data: tuple[Any, Any] | None = None,
        early_stopping: int | None = DEFAULTS["early_stopping"],
        reduce_lr_patience: int | None = None,
        lr_schedule: str | None = None,
        callbacks: Sequence[Callback] = (),
        seed: int | None = 0,
        progress: bool | Callback = True,
        augment: str | Callable[..., Any] | None = None,
        save_on_interrupt: bool = False,
        label_smoothing: float = 0.0,
    ) -> History:
        """Train with the recommended loop: :func:`~glassnet.training.fit` plus the usual callbacks.

        ``early_stopping`` is the patience on the validation loss (best weights
        restored); 0 or None turns it off (and it is off without validation data).

        ``lr_schedule`` changes the learning rate during the run:

        * ``"step"`` (the recommendation): multiply it by 0.3 when 50 % and
          again when 75 % of ``epochs`` have passed (:class:`StepDecay`);
        * ``"plateau"``: halve it after ``reduce_lr_patience`` (default 2)
          epochs without validation improvement (:class:`ReduceLROnPlateau`;
          off without validation data);
        * ``"none"``: keep it.

        Left at None it is the recommended ``"step"``, unless
        ``reduce_lr_patience`` is given: then a positive patience means
        ``"plateau"`` and 0 means ``"none"`` (how this method behaved before
        the step schedule became the recommendation).
        ``augment`` is ``"none"``, ``"shift:N"`` (a :class:`RandomShift` of up
        to N pixels, which needs the classifier's ``image_shape``) or any
        callable ``augment(x_batch, rng)``; only training batches are augmented.

        ``save_on_interrupt=True``: Ctrl-C (KeyboardInterrupt) during training
        does not propagate; the weights of the best epoch so far are put back
        and the History returned has ``stop_reason == "interrupted"`` and a
        message saying so (see :class:`KeepBest`). If no epoch had finished,
        the KeyboardInterrupt propagates: there is nothing worth keeping.

        ``label_smoothing`` ε trains towards (1 − ε)·one-hot + ε/K (see
        :func:`~glassnet.training.fit`); 0 (default) keeps the one-hot targets.
        """
        from ..optimizers import Optimizer, get_optimizer

        if isinstance(optimizer, Optimizer):
            opt = optimizer
            if lr is not None:
                opt.lr = float(lr)
        else:
            name = optimizer.get("name") if isinstance(optimizer, dict) else optimizer
            opt = get_optimizer(optimizer, **({"lr": lr if lr is not None else default_lr(name)}
                                              if isinstance(name, str) else {}))
        has_val = validation_data is not None or bool(validation_split)
        cbs: list[Callback] = []
        stopper = None
        if early_stopping and has_val:
            stopper = EarlyStopping("val_loss", patience=early_stopping,
                                    restore_best_weights=True)
            cbs.append(stopper)
        schedule, patience = _lr_schedule(lr_schedule, reduce_lr_patience)
        schedule_info: dict[str, Any] | None = None
        if schedule == "plateau" and has_val:
            cbs.append(ReduceLROnPlateau("val_loss", factor=PLATEAU_FACTOR, patience=patience))
            schedule_info = {"name": "plateau", "patience": patience, "factor": PLATEAU_FACTOR}
        elif schedule == "step":
            decay = StepDecay.at_fractions(epochs, DEFAULTS["lr_steps"], DEFAULTS["lr_step_factor"])
            cbs.append(decay)
            schedule_info = {"name": "step", "milestones": decay.milestones,
                             "factor": decay.factor}
        cbs.extend(callbacks)
        if isinstance(augment, str):
            augment = parse_augment(augment, self.image_shape, what="augment")
        X = self.transform(X)
        if validation_data is not None and "mean" in self.preprocessing:
            validation_data = (self.transform(validation_data[0]), validation_data[1])
        keeper = KeepBest("val_loss" if has_val else "loss") if save_on_interrupt else None
        if keeper is not None:
            cbs.append(keeper)
        try:
            history = fit(self.network, X, y, epochs=epochs, batch_size=batch_size,
                          optimizer=opt, validation_split=validation_split,
                          validation_data=validation_data, callbacks=cbs, seed=seed,
                          progress=progress, augment=augment,
                          label_smoothing=label_smoothing)
        except KeyboardInterrupt:
            if keeper is None or keeper.best_weights is None:
                raise
            history = keeper.interrupted()
            if progress:  # the display never got to its closing message
                import sys

                print(f"\n{history.message}", file=sys.stderr, flush=True)
        self.history = history
        self.training = {
            "optimizer": opt.get_config() | {"lr": float(getattr(opt, "lr", 0.0))},
            "initial_lr": float(lr) if lr is not None else (
                default_lr(opt.name) if not isinstance(optimizer, Optimizer) else None),
            "batch_size": int(batch_size),
            "max_epochs": int(epochs),
            "early_stopping": int(early_stopping or 0) if stopper else 0,
            "reduce_lr_patience": patience if schedule_info and schedule == "plateau" else 0,
            "lr_schedule": schedule_info,
            "validation_split": float(validation_split) if validation_data is None else None,
            "augment": history.params.get("augment"),
            "label_smoothing": history.params.get("label_smoothing", 0.0),
            # BLAS threads: how many, why, and when the load made them change (epoch, n)
            "threads": history.params.get("threads"),
            "thread_changes": history.params.get("thread_changes"),
            "seed": history.params.get("seed"),
            "n_train": history.params.get("n_train"),
            "n_val": history.params.get("n_val"),
            **history.summary(),
        }
        return history

    # ----------------------------------------------------------- prediction
    def network_inputs(self, X: Any, *, raw: bool = False) -> Any:
        """What the first layer sees for rows ``X``: the model's stored preprocessing applied.

        ``raw=False``: ``X`` as glassnet's loaders give it, the pixels of
        :func:`~glassnet.data.load_dataset` already in [0, 1], the columns of
        a ``--data`` file as they are (:meth:`transform` standardizes them).

        ``raw=True``: ``X`` as the dataset stores it, which is what ``glassnet
        predict`` and the exported ONNX graph take: digits pixels 0..16, MNIST
        pixels 0..255 (divided here by N of ``"pixel / N"``, in the network's
        dtype, as load_dataset does), a ``--data`` file's columns (standardized).

        >>> from glassnet.data import load_dataset
        >>> clf = Classifier.build(64, 10, hidden=[8], scaling="pixel / 16")
        >>> ds = load_dataset("digits", "test")
        >>> bool(np.array_equal(clf.network_inputs(ds.X * 16, raw=True), ds.X))
        True
        """
        divisor = self.pixel_divisor if raw else None
        if divisor is not None:
            X = _as_inputs(X, self.network, "X")
            X = X / X.dtype.type(divisor)
        return self.transform(X)

    def predict_proba(self, X: Any, *, raw: bool = False) -> np.ndarray:
        """Class probabilities, one column per class (for a pair: [1 − p, p]).

        ``raw=True`` takes rows as the dataset stores them (pixels 0..16 or
        0..255) and gives what ``glassnet predict`` prints; see
        :meth:`network_inputs`.
        """
        out = self.network.predict(self.network_inputs(X, raw=raw))
        if self.task == "binary":
            p = out[:, 0]
            return np.column_stack([1.0 - p, p])
        return out

    def predict(self, X: Any, *, raw: bool = False) -> np.ndarray:
        """Predicted class indices 0..k−1 (for a pair: 1 when p >= 0.5); ``raw`` as above."""
        return predict_labels(self.network.predict(self.network_inputs(X, raw=raw)))

    def predict_names(self, X: Any, *, raw: bool = False) -> list[str]:
        return [self.class_names[i] for i in self.predict(X, raw=raw)]

    def evaluate(self, X: Any, y: Any) -> dict[str, Any]:
        """Metrics on a labelled set (see :func:`glassnet.metrics.classification_metrics`).

        Computed from the whole set's confusion counts and per-sample losses;
        ``loss`` is the mean per-sample loss.
        """
        from ..metrics import classification_metrics

        net = self.network
        X = _as_inputs(self.transform(X), net, "X")
        T, labels = prepare_targets(y, net, X.shape[0], "y")
        if labels is None:
            raise GlassnetError("evaluate needs class labels")
        out_layer = net.layers[-1]
        loss_sum = 0.0
        pred = np.empty(X.shape[0], dtype=np.int64)
        for i in range(0, X.shape[0], EVAL_CHUNK):
            with np.errstate(over="ignore", invalid="ignore"):  # refused just below instead
                out = net._forward(X[i:i + EVAL_CHUNK])
            bad = ~np.isfinite(out).all(axis=1)
            if bad.any():
                raise GlassnetError(f"the model's outputs are not finite numbers for row "
                                    f"{i + int(np.argmax(bad))} (its inputs overflow the "
                                    "network's numbers): no metrics computed")
            loss_sum += float(net.loss.value(out, T[i:i + EVAL_CHUNK], out_layer.z,
                                             out_layer.activation).sum())
            pred[i:i + EVAL_CHUNK] = predict_labels(out)
        return classification_metrics(labels, pred, self.n_classes,
                                      class_names=self.class_names,
                                      loss=loss_sum / X.shape[0])

    # ---------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write the model directory (model.json + weights.npz), atomically."""
        from ..model_io import save_model

        save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Classifier:
        """Read and check a model directory written by :meth:`save`.

        :func:`glassnet.model_io.read_model` reads and checks the folder (it
        knows nothing of training); this turns what it found into a Classifier.
        """
        from ..model_io import ModelError, read_model

        stored = read_model(path)
        try:
            return cls(stored.network, stored.class_names, preprocessing=stored.preprocessing,
                       dataset=stored.dataset, training=stored.training)
        except GlassnetError as exc:  # e.g. a malformed preprocessing.mean / scale
            raise ModelError(f"model {path}: {exc}") from None

    def describe(self) -> dict[str, Any]:
        """The JSON-ready description that model.json holds (without the weights)."""
        return {
            "glassnet_version": __version__,
            "task": self.task,
            "class_names": list(self.class_names),
            "preprocessing": dict(self.preprocessing),
            "dataset": self.dataset,
            "training": self.training,
        }
