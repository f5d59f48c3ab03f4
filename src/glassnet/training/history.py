"""History: what happened in each epoch of a training run.

One record per epoch, with exactly the fields the ``--history`` file holds:

* ``epoch``        counted from 0 (the training contract's field: an index);
* ``loss``         the mean training loss over the epoch's samples (a running
                   mean while the weights change, as Keras reports it);
* ``val_loss``     mean loss on the validation set after the epoch (None
                   without validation);
* ``val_accuracy`` accuracy on the validation set after the epoch (None
                   without validation, or for a regression target);
* ``seconds``      wall time of the epoch's training passes (shuffling,
                   forward, backward, updates); validation is excluded, so
                   the number is comparable with a hand-written loop.

Besides the records, a History says how the run ended: ``stop_reason``
(``"completed"``, ``"early_stopping"``, ``"diverged"``, ``"callback"``,
``"interrupted"``), ``best_epoch`` and ``restored_epoch`` (whose weights the
network holds at the end, when they were restored).

Epoch numbers: everything a person reads counts epochs from 1 (the progress
lines, "restored the weights of epoch 12", the ``best_epoch`` and
``restored_epoch`` of :meth:`summary`, which model.json stores, and the
x-axis of the plots). The ``epoch`` field of a record, and the attributes
``best_epoch`` / ``restored_epoch`` here, are 0-based *indices* into the
records, as the training contract fixes for the ``--history`` file: the
record with ``epoch`` k is the one the progress display called epoch k + 1.

>>> h = History()
>>> h.append({"epoch": 0, "loss": 0.5, "val_loss": 0.4, "val_accuracy": 0.9, "seconds": 1.0})
>>> h["val_loss"], len(h)
([0.4], 1)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import GlassnetError

__all__ = ["History", "HISTORY_FIELDS"]

#: the most bytes read_jsonl reads (a million epochs of records fit in about 100 MB)
HISTORY_LIMIT = 128 * 1024 * 1024
#: the fields of one epoch record, in file order
HISTORY_FIELDS = ("epoch", "loss", "val_loss", "val_accuracy", "seconds")


def _clean(value: Any) -> Any:
    """JSON has no NaN/inf: a diverged loss is written as null (documented)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class History:
    """The per-epoch records of one ``fit`` call, plus how the run ended."""

    def __init__(self, records: list[dict[str, Any]] | None = None):
        self.records: list[dict[str, Any]] = list(records or [])
        self.stop_reason: str = "completed"
        self.message: str = ""
        self.best_epoch: int | None = None
        self.restored_epoch: int | None = None
        self.params: dict[str, Any] = {}
        #: indices of the rows ``fit`` held out for validation (not saved)
        self.validation_indices: Any = None

    # ------------------------------------------------------------ access
    def append(self, record: dict[str, Any]) -> None:
        self.records.append(dict(record))

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __getitem__(self, key: str) -> list[Any]:
        """One column: ``history["val_loss"]`` is the list of every epoch's val_loss."""
        if key not in HISTORY_FIELDS and not any(key in r for r in self.records):
            raise KeyError(f"history has no field {key!r}; fields: {', '.join(HISTORY_FIELDS)}")
        return [r.get(key) for r in self.records]

    @property
    def epochs_run(self) -> int:
        return len(self.records)

    @property
    def diverged(self) -> bool:
        return self.stop_reason == "diverged"

    @property
    def total_seconds(self) -> float:
        return float(sum(r.get("seconds") or 0.0 for r in self.records))

    def __repr__(self) -> str:
        last = self.records[-1] if self.records else {}
        return (f"History(epochs={len(self)}, stop_reason={self.stop_reason!r}, "
                f"best_epoch={self.best_epoch}, last={last})")

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (stored in model.json's ``training`` section)."""
        best = (self.records[self.best_epoch] if self.best_epoch is not None
                and 0 <= self.best_epoch < len(self.records) else None)
        return {
            "epochs_run": len(self),
            "stop_reason": self.stop_reason,
            "message": self.message,
            # counted from 1, like the progress display (records keep their 0-based index)
            "best_epoch": None if self.best_epoch is None else self.best_epoch + 1,
            "restored_epoch": None if self.restored_epoch is None else self.restored_epoch + 1,
            "best": {k: _clean(v) for k, v in best.items()} if best else None,
            "seconds": round(self.total_seconds, 3),
            "history": self.to_records(),
        }

    def to_records(self) -> list[dict[str, Any]]:
        """The records with exactly HISTORY_FIELDS, non-finite numbers as None."""
        return [{k: _clean(r.get(k)) for k in HISTORY_FIELDS} for r in self.records]

    # -------------------------------------------------------------- files
    def write_jsonl(self, path: str | os.PathLike) -> Path:
        """Write one JSON object per epoch (JSON Lines); NaN/inf become null."""
        path = Path(path)
        if path.is_dir():
            raise GlassnetError(f"--history {path}: is a directory, expected a file name")
        if path.parent and not path.parent.exists():
            raise GlassnetError(f"--history {path}: folder {path.parent} does not exist")
        from ..fileio import atomic_write_text, dumps_json

        atomic_write_text(path, "".join(dumps_json(rec, nonfinite="null") + "\n"
                                        for rec in self.to_records()), what="--history file")
        return path

    @classmethod
    def read_jsonl(cls, path: str | os.PathLike) -> History:
        """Read a ``--history`` file back, checking every line."""
        path = Path(path)
        if not path.is_file():
            raise GlassnetError(f"history file {path}: no such file")
        from ..fileio import read_text_capped

        history = cls()
        text = read_text_capped(path, HISTORY_LIMIT, "history file")  # not /dev/zero's forever
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GlassnetError(f"history file {path}, line {lineno}: not JSON: {exc}") \
                    from None
            if not isinstance(rec, dict) or "epoch" not in rec or "loss" not in rec:
                raise GlassnetError(f"history file {path}, line {lineno}: expected an object "
                                    f"with keys {', '.join(HISTORY_FIELDS)}")
            for key in HISTORY_FIELDS:
                v = rec.get(key)
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    raise GlassnetError(f"history file {path}, line {lineno}: {key} must be "
                                        f"a number or null, got {v!r}")
            history.append({k: rec.get(k) for k in HISTORY_FIELDS})
        if not history.records:
            raise GlassnetError(f"history file {path}: no epochs in it")
        return history

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> History:
        return cls([{k: r.get(k) for k in HISTORY_FIELDS} for r in records])
