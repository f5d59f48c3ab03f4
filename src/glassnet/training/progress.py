"""Progress display: one line per epoch, and a tqdm bar inside long epochs.

The epoch line (on stderr, so stdout stays free for results)::

    epoch  3/30  loss 0.0712  val_loss 0.0811  val_accuracy 97.63%  2.9 s

The bar appears only when the stream is a terminal and an epoch has many
batches; it is a separate class (:class:`BarProgress`) because it needs the
batch hooks, and the training loop calls batch hooks only for callbacks that
define them. ``progress=False`` (``--quiet``) shows nothing.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from .callbacks import Callback

__all__ = ["EpochProgress", "BarProgress", "make_progress", "format_epoch"]

#: an epoch needs at least this many batches to get a bar
BAR_MIN_BATCHES = 100


def format_epoch(logs: dict[str, Any], epochs: int | None = None) -> str:
    """The one-line summary of an epoch record."""
    e = logs["epoch"] + 1
    width = len(str(epochs)) if epochs else 1
    parts = [f"epoch {e:>{width}d}/{epochs}" if epochs else f"epoch {e}"]
    parts.append(f"loss {_num(logs.get('loss'))}")
    if logs.get("val_loss") is not None:
        parts.append(f"val_loss {_num(logs['val_loss'])}")
    if logs.get("val_accuracy") is not None:
        parts.append(f"val_accuracy {100 * logs['val_accuracy']:.2f}%")
    parts.append(f"{logs.get('seconds', 0.0):.1f} s")
    return "  ".join(parts)


def _num(x: Any) -> str:
    return "nan" if x is None else f"{x:.4f}"


class EpochProgress(Callback):
    """Print one line per epoch (and how the run ended) to ``stream`` (stderr)."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream

    @property
    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stderr

    def on_train_begin(self, logs=None):
        p = self.state.params
        val = f", validating on {p['n_val']}" if p.get("n_val") else ", no validation"
        print(f"training {p.get('architecture', '')} on {p['n_train']} samples{val}; "
              f"batch size {p['batch_size']}, up to {p['epochs']} epochs, "
              f"{p.get('optimizer', '')}"
              + (f", augment {p['augment']}" if p.get("augment") else ""),
              file=self._out, flush=True)

    def on_epoch_end(self, epoch, logs=None):
        print(format_epoch(logs, self.state.params.get("epochs")), file=self._out, flush=True)

    def on_train_end(self, logs=None):
        h = self.state.history
        if h is not None and h.message:
            print(h.message, file=self._out, flush=True)


class BarProgress(EpochProgress):
    """EpochProgress plus a tqdm bar over each epoch's batches."""

    def __init__(self, stream: TextIO | None = None):
        super().__init__(stream)
        self._bar = None
        self._loss_sum = 0.0
        self._rows = 0

    def on_epoch_begin(self, epoch, logs=None):
        from tqdm.auto import tqdm

        p = self.state.params
        self._bar = tqdm(total=p["n_batches"], desc=f"epoch {epoch + 1}/{p['epochs']}",
                         leave=False, file=self._out, unit="batch", mininterval=0.2)
        self._loss_sum, self._rows = 0.0, 0

    def on_batch_end(self, batch, logs=None):
        self._loss_sum += logs["loss"] * logs["size"]
        self._rows += logs["size"]
        bar = self._bar
        bar.update(1)
        if batch % 50 == 49:
            bar.set_postfix_str(f"loss {self._loss_sum / self._rows:.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        super().on_epoch_end(epoch, logs)


def make_progress(progress: bool | Callback, n_batches: int,
                  stream: TextIO | None = None) -> Callback | None:
    """The display ``fit(progress=...)`` asks for: None, a line per epoch, or lines and a bar."""
    if isinstance(progress, Callback):
        return progress
    if not progress:
        return None
    out = stream if stream is not None else sys.stderr
    is_tty = bool(getattr(out, "isatty", lambda: False)())
    if is_tty and n_batches >= BAR_MIN_BATCHES:
        return BarProgress(stream)
    return EpochProgress(stream)
