"""``glassnet plot``: learning curves, confusion matrix, misclassified samples (PNG/SVG/PDF)."""

from __future__ import annotations

import argparse

KINDS = ("history", "confusion", "misclassified")


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "plot",
        help="draw learning curves, a confusion matrix or misclassified samples",
        description="history SOURCE: learning curves from a --history file or a model "
                    "directory (its stored history). confusion MODEL_DIR / misclassified "
                    "MODEL_DIR: the model on a dataset split (default: its own dataset, test "
                    "split). The picture format follows --out (.png, .svg, .pdf). Needs "
                    "matplotlib (pip install 'glassnet[plot]').",
    )
    p.add_argument("kind", choices=KINDS,
                   help="history (learning curves), confusion (confusion matrix) or "
                        "misclassified (the wrongly classified images)")
    p.add_argument("source", metavar="SOURCE", help="a history .jsonl file or a model directory")
    p.add_argument("--out", metavar="FILE", help="picture to write (default KIND.png)")
    p.add_argument("--dataset", metavar="NAME", help="default: the model's dataset")
    p.add_argument("--classes", metavar="A,B,...", help="default: the model's classes")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the four IDX files")
    p.add_argument("--split", choices=["test", "train"], default="test",
                   help="which split of the dataset (default test)")
    p.add_argument("--count", type=int, default=25, metavar="N",
                   help="misclassified: how many images at most (default 25)")
    return p


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import GlassnetError
    from ..plots import (
        plot_confusion_matrix,
        plot_history,
        plot_misclassified,
        require_matplotlib,
    )

    require_matplotlib()
    out = Path(args.out or f"{args.kind}.png")
    source = Path(args.source)
    from ..fileio import check_outputs

    check_outputs([("--out", out)], [("SOURCE", source), ("--data-dir", args.data_dir)],
                  model_folders=[("SOURCE", source)] if source.is_dir() else ())
    if args.kind == "history":
        if source.is_dir():
            from ..training import Classifier, History

            model = Classifier.load(source)
            records = (model.training or {}).get("history")
            if not records:
                raise GlassnetError(f"model {source}: no training history stored in it")
            history = History.from_records(records)
        else:
            history = str(source)
        written = plot_history(history, out)
    else:
        from ..metrics import confusion_matrix
        from ..training import Classifier
        from .evaluate import load_labelled

        if args.count < 1:
            raise GlassnetError(f"--count must be at least 1, got {args.count}")
        model = Classifier.load(source)
        args.format = "json"  # load_labelled: no download progress bar needed
        ds = load_labelled(model, args)
        X = ds.X.astype(model.network.dtype, copy=False)
        pred = model.predict(X)
        title = f"{ds.name} {ds.split}"
        if args.kind == "confusion":
            written = plot_confusion_matrix(confusion_matrix(ds.y, pred, model.n_classes),
                                            model.class_names, out,
                                            title=f"{title}: accuracy "
                                                  f"{100 * (pred == ds.y).mean():.2f}%")
        else:
            if model.image_shape is None:
                raise GlassnetError(f"model {source} was not trained on images")
            written = plot_misclassified(X, ds.y, pred, model.image_shape, model.class_names,
                                         out, proba=model.predict_proba(X), count=args.count)
    print(written)
    return 0
