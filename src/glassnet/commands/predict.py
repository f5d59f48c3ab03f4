"""``glassnet predict``: the class and output probabilities for each input row.

What it takes: the features as the dataset stores them, the same input as
the exported ONNX graph (``glassnet export --format onnx``): raw pixels
0..16 for a digits model, 0..255 for MNIST and Fashion-MNIST, the columns of
a ``--data`` file as they are. The model applies its own stored
preprocessing (divide by 16 or 255, or standardize with the stored mean and
scale), exactly as :meth:`Classifier.predict_proba` does with ``raw=True``.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "predict",
        help="predict the class of each row of a .npy/.csv file, or of an image",
        description="Print, for each input row, the predicted class and the probability of "
                    "every class. INPUT holds the features as the dataset stores them, the "
                    "same input as the exported ONNX graph: raw pixels 0..16 for a digits "
                    "model, 0..255 for MNIST and Fashion-MNIST, the columns of a --data file "
                    "as they are. The model applies its own stored scaling (divide by 16 or "
                    "255, or standardize). For models trained on images INPUT may also be an "
                    "image file (converted to grayscale and resized).",
    )
    p.add_argument("model", metavar="MODEL_DIR", help="a model directory written by train")
    p.add_argument("input", metavar="INPUT",
                   help="rows of raw features to classify (digits pixels 0..16, MNIST "
                        "0..255, --data columns as in the file): .npy, .csv (no label "
                        "column), .npz (its array X), or an image file for models trained "
                        "on images")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="text for people, json for scripts (default text)")
    return p


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    import numpy as np

    from ..data import load_inputs
    from ..data.inputs import IMAGE_SUFFIXES, prescaled_warning
    from ..errors import NonFiniteError
    from ..fileio import dumps_json
    from ..training import Classifier

    model = Classifier.load(args.model)  # refuses a model with NaN or infinite weights
    pixel_max = model.pixel_divisor or 1.0  # raw pixels run from 0 to the divisor
    dataset = (model.dataset or {}).get("name") if model.image_shape else None
    dataset = dataset if isinstance(dataset, str) else None  # names the pixels in messages
    X = load_inputs(args.input, model.n_features, model.image_shape, pixel_max=pixel_max,
                    dataset=dataset, dtype=model.network.dtype)
    if model.image_shape and Path(args.input).suffix.lower() not in IMAGE_SUFFIXES:
        warning = prescaled_warning(args.input, X, pixel_max, dataset)
        if warning:
            print(f"glassnet: warning: {warning}", file=sys.stderr)
    with np.errstate(over="ignore", invalid="ignore"):
        proba = model.predict_proba(X, raw=True)  # the model's own scaling, as in ONNX
    bad = ~np.isfinite(proba).all(axis=1)
    if bad.any():  # never a NaN probability reported as class 0
        row = int(np.argmax(bad))
        raise NonFiniteError(f"{args.input}: row {row}: the model's output is not a number "
                             f"(NaN or infinity), for {int(bad.sum())} of {len(bad)} rows; "
                             "are the inputs the features as the dataset stores them?")
    idx = proba.argmax(axis=1)
    if model.task == "binary":  # the decision rule of training: p(positive) >= 0.5
        idx = (proba[:, 1] >= 0.5).astype(int)
    names = model.class_names
    if args.format == "json":
        rows = [{"row": i, "class": names[k], "index": int(k),
                 "probabilities": {n: float(p) for n, p in zip(names, row, strict=True)}}
                for i, (k, row) in enumerate(zip(idx, proba, strict=True))]
        print(dumps_json({"classes": names, "predictions": rows}))
        return 0
    w = max(5, *(len(n) for n in names))
    cw = max(8, *(len(n) + 1 for n in names))
    print(f"{'row':>5}  {'class':<{w}}  " + "".join(f"{'p(' + n + ')':>{cw + 3}}"
                                                     for n in names))
    for i, (k, row) in enumerate(zip(idx, proba, strict=True)):
        print(f"{i:>5}  {names[k]:<{w}}  " + "".join(f"{p:>{cw + 3}.4f}" for p in row))
    return 0
