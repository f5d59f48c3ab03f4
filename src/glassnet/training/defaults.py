"""The library's recommended settings: what ``glassnet train`` uses when not told otherwise.

Chosen by real runs on this project's 2-core test machine (numbers in
docs/training.md): ReLU hidden layers with He-normal initial weights, Adam at
its usual step 1e-3, multiplied by 0.3 after half and again after three
quarters of the epochs, mini-batches of 128, at most 40 epochs with early
stopping on the validation loss (patience 10, best weights restored), 10 %
of the training set held out (stratified, seeded), and every training image
shifted by a random offset each time it is used (see
:mod:`glassnet.training.augment`): up to 2 pixels for MNIST, whose digits
sit in a 20×20 box with a 4-pixel margin; 1 for Fashion-MNIST, whose
clothes fill the frame (2 pixels gave a lower accuracy); none for the 8×8
digits, where one pixel is an eighth of the image (shifting cost 2 %).

Why the step schedule and not "halve when the validation loss stalls": with
augmentation the validation loss falls slowly and noisily, and a plateau
detector fires (or early stopping ends the run) at random moments of that
noise; a fixed schedule does the same thing every run.

The small 8×8 ``digits`` set (1,346 training images) gets a smaller
network and smaller batches: with 1,211 training rows a batch of 128 makes
only ten updates per epoch.

>>> recommended("digits")["hidden"], recommended("mnist")["hidden"]
([256, 128], [512, 256])
>>> recommended("mnist")["augment"]
'shift:2'
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULTS", "DATASET_DEFAULTS", "recommended", "default_init", "default_lr"]

#: settings shared by every dataset
DEFAULTS: dict[str, Any] = {
    "hidden": [512, 256],
    "activation": "relu",
    "init": None,  # None: matched to the activation (see default_init)
    "optimizer": "adam",
    "lr": None,  # None: per optimizer (see default_lr)
    "batch_size": 128,
    "epochs": 40,
    "early_stopping": 10,
    "lr_schedule": "step",  # "step", "plateau" or "none" (see Classifier.fit)
    "lr_steps": (0.5, 0.75),  # "step": fractions of the epochs after which lr is multiplied
    "lr_step_factor": 0.3,  # ... by this
    "reduce_lr_patience": 2,  # "plateau": epochs without improvement before halving lr
    "augment": "none",
    "validation_split": 0.1,
    "seed": 0,
    "dtype": "float32",
}

#: what differs for one dataset
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": {"hidden": [256, 128], "batch_size": 32},
    "mnist": {"augment": "shift:2"},
    "fashion-mnist": {"augment": "shift:1"},
}

#: learning rate per optimizer when none is given
_LR = {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adam": 1e-3}

#: initializer matched to the hidden activation
_INIT = {"relu": "he_normal", "leaky_relu": "he_normal", "tanh": "glorot_uniform",
         "sigmoid": "glorot_uniform", "linear": "glorot_uniform"}


def recommended(dataset: str | None = None) -> dict[str, Any]:
    """The recommended settings for ``dataset`` (a copy; unknown names get the general ones)."""
    out = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in DEFAULTS.items()}
    out.update(DATASET_DEFAULTS.get(dataset or "", {}))
    return out


def default_init(activation: str) -> str:
    """He for ReLU-like units (variance 2/fan_in keeps the signal alive), Glorot otherwise."""
    return _INIT.get(activation, "glorot_uniform")


def default_lr(optimizer: str) -> float:
    """A learning rate that works for each optimizer on [0, 1]-scaled images."""
    return _LR.get(optimizer, 0.01)
