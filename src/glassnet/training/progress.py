"""Progress display: one line per epoch, a tqdm bar inside long epochs, one bar in notebooks.

The epoch line (on stderr, so stdout stays free for results)::

    epoch  3/30  loss 0.0712  val_loss 0.0811  val_accuracy 97.63%  2.9 s

Epochs are counted from 1 here, as in every message meant for a reader.

The bar appears only when the stream is a terminal and an epoch has many
batches; it is a separate class (:class:`BarProgress`) because it needs the
batch hooks, and the training loop calls batch hooks only for callbacks that
define them. ``progress=False`` (``--quiet``) shows nothing.

In a Jupyter notebook forty epoch lines on stderr become a red wall of
text; there :func:`make_progress` picks :class:`NotebookProgress` instead:
one display (``tqdm.auto``: a widget when ipywidgets is installed, else a
text bar redrawn in place) whose counter is the epoch and whose text is the
latest epoch's numbers, then the run's closing message.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from .callbacks import Callback

__all__ = ["EpochProgress", "BarProgress", "NotebookProgress", "make_progress", "format_epoch",
           "in_notebook"]

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
              + (f", augment {p['augment']}" if p.get("augment") else "")
              + (f", label smoothing {p['label_smoothing']:g}" if p.get("label_smoothing")
                 else ""),
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


class NotebookProgress(EpochProgress):
    """One updating display for the whole run (for notebooks): epochs done, latest numbers.

    The counter advances once per epoch and its text is the latest epoch's
    summary, so a notebook cell shows one line that changes instead of a line
    per epoch; the run's first line (what is trained) and its closing
    message are printed once, as in a terminal.
    """

    def __init__(self, stream: TextIO | None = None):
        super().__init__(stream)
        self._bar = None
        self.last_line = ""

    def on_train_begin(self, logs=None):
        import warnings

        super().on_train_begin(logs)
        with warnings.catch_warnings():  # without ipywidgets: a text bar, no warning about it
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.state.params["epochs"], desc="epoch", unit="epoch",
                             file=self._out, leave=True)

    def on_epoch_end(self, epoch, logs=None):
        line = format_epoch(logs, self.state.params.get("epochs"))
        self.last_line = line
        if self._bar is not None:
            # the counter already says which epoch: keep the numbers after "epoch  k/N"
            self._bar.set_postfix_str(line.split("/", 1)[-1].split("  ", 1)[-1].strip(),
                                      refresh=False)
            self._bar.update(1)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        super().on_train_end(logs)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), without importing IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # an IPython too old or half-initialised: treat as no notebook
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def make_progress(progress: bool | Callback, n_batches: int,
                  stream: TextIO | None = None) -> Callback | None:
    """The display ``fit(progress=...)`` asks for: None, a line per epoch, lines and a bar,
    or, in a notebook, one updating display."""
    if isinstance(progress, Callback):
        return progress
    if not progress:
        return None
    if in_notebook():
        return NotebookProgress(stream)
    out = stream if stream is not None else sys.stderr
    is_tty = bool(getattr(out, "isatty", lambda: False)())
    if is_tty and n_batches >= BAR_MIN_BATCHES:
        return BarProgress(stream)
    return EpochProgress(stream)
