"""Training real networks: the fit loop, callbacks, history, progress, and a Classifier.

>>> from glassnet.training import fit, EarlyStopping, History
"""

from .augment import RandomShift, parse_augment
from .callbacks import Callback, CallbackList, EarlyStopping, FitState, ReduceLROnPlateau, StepDecay
from .classifier import Classifier
from .defaults import recommended
from .fit import DivergenceWarning, evaluate_loss, fit, predict_labels, prepare_targets
from .history import HISTORY_FIELDS, History
from .progress import BarProgress, EpochProgress

__all__ = [
    "Classifier", "recommended",
    "fit", "evaluate_loss", "predict_labels", "prepare_targets", "DivergenceWarning",
    "Callback", "CallbackList", "EarlyStopping", "ReduceLROnPlateau", "StepDecay", "FitState",
    "RandomShift", "parse_augment",
    "History", "HISTORY_FIELDS", "EpochProgress", "BarProgress",
]
