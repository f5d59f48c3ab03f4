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
    p.add_argument("model", metavar="MODEL_DIR", help="a model directory written by train")
    p.add_argument("--dataset", metavar="NAME",
                   help="digits, mnist, fashion-mnist (default: the model's dataset)")
    p.add_argument("--classes", metavar="A,B,...",
                   help="the classes, in the model's order (default: the model's classes)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the four IDX files")
    p.add_argument("--data", metavar="FILE",
                   help="the .npz/.csv the model was trained on with train --data: --split "
                        "test evaluates the rows train held out, --split train the others "
                        "(the file must be unchanged)")
    p.add_argument("--test-data", metavar="FILE",
                   help="evaluate on every row of this .npz (arrays X, y) or .csv (label in "
                        "the last column), scaled as the model's training rows were")
    p.add_argument("--split", choices=["test", "train"], default=None,
                   help="which split of the dataset or --data file (default test); not with "
                        "--test-data, which is evaluated whole")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="text for people, json for scripts (default text)")
    return p


def load_labelled(model, args):
    """The dataset split matching ``model``'s classes and inputs (checked)."""
    from ..data import load_dataset
    from ..errors import GlassnetError
    from .train import check_dataset, parse_classes

    stored = model.dataset or {}
    args.data = getattr(args, "data", None)  # `glassnet plot` calls this without these options
    args.test_data = getattr(args, "test_data", None)
    if args.data is not None or args.test_data is not None or (
            stored.get("name") == "data" and args.dataset is None):
        return load_user_labelled(model, args)
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


def load_user_labelled(model, args):
    """Rows of the user's own data (train --data) matching ``model``: see the option help."""
    from pathlib import Path

    from ..data.userdata import file_sha256, load_user_data, split_off_test
    from ..errors import GlassnetError
    from .train import _relabel

    for opt, value in (("--dataset", args.dataset), ("--classes", args.classes),
                       ("--data-dir", args.data_dir)):
        if value is not None:
            raise GlassnetError(f"{opt} is for the built-in datasets; with your own data give "
                                "--data FILE or --test-data FILE")
    if args.data is not None and args.test_data is not None:
        raise GlassnetError("give --data FILE (with --split) or --test-data FILE, not both")
    stored = model.dataset or {}
    if args.test_data is None and args.data is None:  # the files recorded at training
        if args.split == "test" and stored.get("test_file"):
            args.test_data = stored["test_file"]
        elif stored.get("file"):
            args.data = stored["file"]
        else:
            raise GlassnetError(f"model {args.model} records no data file; give --test-data FILE")
    if args.test_data is not None:
        data = load_user_data(args.test_data, what="--test-data")
        where = f"--test-data {args.test_data}"
        split = "all"
    else:
        path = Path(args.data)
        where = f"--data {path}"
        if stored.get("name") != "data" or not stored.get("sha256"):
            raise GlassnetError(f"model {args.model} was not trained with --data; to evaluate "
                                f"on every row of {path}, give --test-data {path}")
        if path.is_file() and file_sha256(path) != stored["sha256"]:
            raise GlassnetError(f"{where}: not the file this model was trained on (its SHA-256 "
                                "differs), so its held-out rows cannot be found again; give "
                                f"--test-data {path} to evaluate on all its rows")
        data = load_user_data(path, what="--data")
        if stored.get("test_split") is None:
            if args.split == "test":
                raise GlassnetError(f"the model was trained on all of {path} (its test set "
                                    f"was --test-data {stored.get('test_file')}); give "
                                    "--split train, or --test-data FILE")
            split = "train"
        else:
            names = stored.get("class_names") or data.class_names
            data = _relabel(data, list(names), where)
            train, test = split_off_test(data, float(stored["test_split"]),
                                         int(stored.get("seed") or 0))
            data, split = (test, "test") if args.split == "test" else (train, "train")
    if data.n_features != model.n_features:
        raise GlassnetError(f"{where}: {data.n_features} features per row but the model "
                            f"expects {model.n_features}")
    data = _relabel(data, model.class_names, where)
    from ..data.userdata import check_model_inputs

    check_model_inputs(data, model.preprocessing, model.network.dtype, where)  # names the line
    data.split = split
    return data


def run(args: argparse.Namespace) -> int:
    from ..fileio import dumps_json
    from ..metrics import format_metrics
    from ..training import Classifier

    if args.split is not None and getattr(args, "test_data", None) is not None:
        from ..errors import GlassnetError

        raise GlassnetError(f"--split {args.split} does not apply to --test-data, which is "
                            "evaluated whole; give --data FILE --split ... to choose a split")
    args.split = args.split or "test"
    model = Classifier.load(args.model)
    ds = load_labelled(model, args)
    # raw rows of the user's own data: the model applies its stored scaling itself
    X = ds.X if "mean" in model.preprocessing else ds.X.astype(model.network.dtype, copy=False)
    m = model.evaluate(X, ds.y)
    m = {"dataset": ds.name, "split": ds.split, **m}
    if args.format == "json":
        replaced: list[str] = []
        text = dumps_json(m, nonfinite="null", replaced=replaced)
        if replaced:  # JSON has no NaN/Infinity: null, and a note saying where and why
            m["notes"] = [f"{where[2:]} is not a finite number; written as null"
                          for where in replaced]
            text = dumps_json(m, nonfinite="null")
        print(text)
    else:
        print(f"model {args.model} on {ds.name} ({ds.split} split)")
        print(format_metrics(m))
    return 0
