"""``glassnet evaluate``: accuracy, precision, recall, F1, loss and confusion matrix of a model."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "evaluate",
        help="evaluate a saved model on a dataset split",
        description="Evaluate a model directory on a dataset split. Metrics come from the "
                    "whole set's confusion counts: accuracy, precision, recall, F1 (for two "
                    "classes those of the positive, second class; otherwise macro averages "
                    "with per-class values), mean loss, and the confusion matrix (rows = true "
                    "class, columns = predicted). 0/0 counts as 0.",
    )
    p.add_argument("model", metavar="MODEL_DIR")
    p.add_argument("--dataset", metavar="NAME",
                   help="digits, mnist, fashion-mnist (default: the model's dataset)")
    p.add_argument("--classes", metavar="A,B,...",
                   help="the classes, in the model's order (default: the model's classes)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the four IDX files")
    p.add_argument("--split", choices=["test", "train"], default="test")
    p.add_argument("--format", choices=["text", "json"], default="text")
    return p


def load_labelled(model, args):
    """The dataset split matching ``model``'s classes and inputs (checked)."""
    from ..data import load_dataset
    from ..errors import GlassnetError
    from .train import check_dataset, parse_classes

    stored = model.dataset or {}
    name = args.dataset or stored.get("name")
    if name is None:
        raise GlassnetError("--dataset is required: the model does not record its dataset")
    check_dataset(name)
    classes = parse_classes(args.classes)
    if classes is None and name == stored.get("name"):
        classes = stored.get("classes")
    ds = load_dataset(name, args.split, data_dir=args.data_dir, classes=classes,
                      progress=args.format == "text")
    if ds.class_names != model.class_names:
        raise GlassnetError(
            f"the model's classes are {', '.join(model.class_names)} but {name} with "
            f"--classes {args.classes or 'all'} gives {', '.join(ds.class_names)}; pass "
            f"--classes {','.join(model.class_names)}")
    if ds.n_features != model.n_features:
        raise GlassnetError(f"{name} has {ds.n_features} features per sample but the model "
                            f"expects {model.n_features}")
    return ds


def run(args: argparse.Namespace) -> int:
    import json

    from ..metrics import format_metrics
    from ..model_io import load_model

    model = load_model(args.model)
    ds = load_labelled(model, args)
    X = ds.X.astype(model.network.dtype, copy=False)
    m = model.evaluate(X, ds.y)
    m = {"dataset": ds.name, "split": ds.split, **m}
    if args.format == "json":
        print(json.dumps(m))
    else:
        print(f"model {args.model} on {ds.name} ({ds.split} split)")
        print(format_metrics(m))
    return 0
