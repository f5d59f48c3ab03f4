"""``glassnet train``: train a classifier on digits, MNIST or Fashion-MNIST and save it.

Implements the training contract (shared/spec/train-cli.md). Options left out
take the library's recommendation (:mod:`glassnet.training.defaults`).
"""

from __future__ import annotations

import argparse

DATASETS = ("digits", "mnist", "fashion-mnist")


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train",
        help="train a classifier on digits, MNIST or Fashion-MNIST and save it",
        description="Train a multilayer perceptron on a dataset and write the model directory "
                    "(model.json + weights.npz). Options not given take the library's "
                    "recommended values (ReLU 512,256 (digits: 256,128), He init, Adam 1e-3 "
                    "multiplied by 0.3 after 50%% and 75%% of the epochs, batch 128 (digits: "
                    "32), up to 40 epochs, early stopping with patience 10 on the validation "
                    "loss, 10%% stratified validation split, training images shifted by up to "
                    "2 pixels for mnist, 1 for fashion-mnist).",
    )
    p.add_argument("--dataset", default="digits", metavar="NAME",
                   help="digits (bundled, no download), mnist, fashion-mnist (default digits)")
    p.add_argument("--classes", metavar="A,B,...",
                   help="keep only these labels, re-indexed in this order; two classes make a "
                        "binary task whose positive class is the second (default all)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder with the four IDX files (default $GLASSNET_DATA/<dataset>, "
                        "then the user cache, then download)")
    p.add_argument("--hidden", metavar="N[,N...]", help="hidden layer sizes")
    p.add_argument("--activation", metavar="NAME", help="hidden activation (default relu)")
    p.add_argument("--init", metavar="NAME",
                   help="weight initializer: normal, he_normal, glorot_uniform, ... "
                        "(default matched to the activation)")
    p.add_argument("--optimizer", choices=["sgd", "momentum", "adam"],
                   help="default adam")
    p.add_argument("--lr", type=float, metavar="X",
                   help="learning rate (default per optimizer: sgd 0.1, momentum 0.01, "
                        "adam 0.001)")
    p.add_argument("--batch-size", type=int, metavar="N", help="mini-batch size; 1 = online SGD")
    p.add_argument("--epochs", type=int, metavar="N", help="maximum epochs (default 40)")
    p.add_argument("--early-stopping", type=int, metavar="N",
                   help="patience in epochs on the validation loss, restoring the best "
                        "weights; 0 turns it off (default 10)")
    p.add_argument("--lr-schedule", choices=["step", "plateau", "none"],
                   help="step: multiply the learning rate by 0.3 after 50%% and 75%% of "
                        "--epochs; plateau: halve it when the validation loss has not improved "
                        "for 2 epochs; none (default step)")
    p.add_argument("--augment", metavar="SPEC",
                   help="change each training batch on the fly: shift:N moves every image by "
                        "its own random offset of up to N pixels in x and y (zero fill), none "
                        "turns it off; validation data is never augmented (default shift:2 for "
                        "mnist, shift:1 for fashion-mnist, none for digits)")
    p.add_argument("--validation-split", type=float, metavar="X",
                   help="fraction of the training set held out, seeded and stratified "
                        "(default 0.1)")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="seed of every random choice: init, shuffling, split (default 0)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--history", metavar="FILE",
                   help="write the per-epoch history as JSON Lines")
    p.add_argument("--plots", metavar="DIR",
                   help="write learning curves, the validation confusion matrix and "
                        "misclassified samples as PNG files into DIR (needs matplotlib)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--out", required=True, metavar="MODEL_DIR",
                   help="where the trained model is written")
    return p


def parse_classes(text: str | None) -> list[str] | None:
    """'5,6' -> ['5', '6']; None -> None. Empty items are an error."""
    from ..errors import GlassnetError

    if text is None:
        return None
    items = [c.strip() for c in text.split(",")]
    if not items or any(not c for c in items):
        raise GlassnetError(f"--classes: expected a comma-separated list like 5,6, got {text!r}")
    return items


def parse_hidden(text: str) -> list[int]:
    from ..errors import GlassnetError

    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or any(s < 1 for s in sizes):
        raise GlassnetError(f"--hidden: expected positive integers like 256,128, got {text!r}")
    return sizes


def check_dataset(name: str) -> None:
    from ..errors import unknown_name

    if name not in DATASETS:
        raise unknown_name("dataset", name, DATASETS)


def scaling_for(dataset: str) -> str:
    return "pixel / 16" if dataset == "digits" else "pixel / 255"


def run(args: argparse.Namespace) -> int:
    import math
    import sys
    import warnings

    from ..activations import get_activation
    from ..errors import GlassnetError
    from ..initializers import get_initializer
    from ..training import Classifier, recommended
    from ..training.augment import parse_augment, parse_augment_spec
    from ..training.defaults import default_init, default_lr

    check_dataset(args.dataset)
    classes = parse_classes(args.classes)
    rec = recommended(args.dataset)
    hidden = parse_hidden(args.hidden) if args.hidden is not None else rec["hidden"]
    activation = args.activation or rec["activation"]
    act = get_activation(activation)  # unknown names: a clear error with suggestions
    if not act.elementwise:
        raise GlassnetError(f"--activation {activation}: only for output layers; choose an "
                            "element-wise activation such as relu or tanh")
    init = args.init or default_init(act.name)
    get_initializer(init)
    optimizer = args.optimizer or rec["optimizer"]
    lr = args.lr if args.lr is not None else default_lr(optimizer)
    if not (math.isfinite(lr) and lr > 0):
        raise GlassnetError(f"--lr must be a positive number, got {args.lr}")
    batch_size = args.batch_size if args.batch_size is not None else rec["batch_size"]
    if batch_size < 1:
        raise GlassnetError(f"--batch-size must be at least 1, got {batch_size}")
    epochs = args.epochs if args.epochs is not None else rec["epochs"]
    if epochs < 1:
        raise GlassnetError(f"--epochs must be at least 1, got {epochs}")
    split = args.validation_split if args.validation_split is not None else \
        rec["validation_split"]
    if not (math.isfinite(split) and 0 <= split < 1):
        raise GlassnetError(f"--validation-split must be a number in [0, 1), got {split}")
    patience = args.early_stopping if args.early_stopping is not None else rec["early_stopping"]
    if patience < 0:
        raise GlassnetError(f"--early-stopping must be 0 (off) or a patience >= 1, got {patience}")
    if patience and split == 0:
        if args.early_stopping is not None:
            raise GlassnetError("--early-stopping needs a validation set: give "
                                "--validation-split > 0, or --early-stopping 0")
        patience = 0  # defaulted: no validation set, so nothing to stop on
    augment_spec = args.augment if args.augment is not None else rec["augment"]
    parse_augment_spec(augment_spec)  # the syntax, before any data is loaded
    lr_schedule = args.lr_schedule or rec["lr_schedule"]
    if lr_schedule == "plateau" and split == 0:
        raise GlassnetError("--lr-schedule plateau needs a validation set: give "
                            "--validation-split > 0, or another --lr-schedule")
    if args.seed < 0:
        raise GlassnetError(f"--seed must be >= 0, got {args.seed}")
    if args.plots is not None:
        from ..plots import require_matplotlib

        require_matplotlib()  # fail before training, not after
    if args.history is not None:
        from pathlib import Path

        hist = Path(args.history)
        if hist.is_dir() or not hist.absolute().parent.is_dir():
            raise GlassnetError(f"--history {hist}: expected a file name in an existing folder")

    from ..data import load_dataset

    progress = not args.quiet
    train = load_dataset(args.dataset, "train", data_dir=args.data_dir, classes=classes,
                         progress=progress, dtype=args.dtype)
    if train.n_classes < 2:
        raise GlassnetError(f"--classes: a classifier needs at least 2 classes, got "
                            f"{train.class_names}")
    # shifting needs images, and a shift the images are big enough for
    augment = parse_augment(augment_spec, train.image_shape)
    clf = Classifier.build(
        train.n_features, train.class_names, hidden=hidden, activation=act.name, init=init,
        dtype=args.dtype, seed=args.seed, image_shape=train.image_shape,
        scaling=scaling_for(args.dataset),
        dataset={"name": args.dataset, "classes": classes},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # divergence is reported below, once
        history = clf.fit(
            train.X, train.y, epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr,
            validation_split=split, early_stopping=patience, lr_schedule=lr_schedule,
            reduce_lr_patience=rec["reduce_lr_patience"] if lr_schedule == "plateau" else None,
            seed=args.seed, progress=progress, augment=augment)
    if history.diverged:
        if history.restored_epoch is None:
            raise GlassnetError(history.message + " No model was written.")
        print(f"glassnet: warning: {history.message}", file=sys.stderr)
    clf.save(args.out)
    if args.history:
        history.write_jsonl(args.history)
    if args.plots:
        from ..plots import training_plots

        written = training_plots(clf, history, args.plots, train)
        if progress:
            print(f"plots: {', '.join(str(p) for p in written)}", file=sys.stderr)
    if progress:
        best = history.best_epoch
        rec_best = history.records[best] if best is not None else history.records[-1]
        acc = rec_best.get("val_accuracy")
        extra = f", val_accuracy {100 * acc:.2f}%" if acc is not None else ""
        print(f"saved {args.out} (epoch {rec_best['epoch']}{extra}; "
              f"{history.total_seconds:.1f} s of training)", file=sys.stderr)
    return 0
