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
                    "multiplied by 0.3 after 50 % and 75 % of the epochs, batch 128 (digits: "
                    "32), up to 40 epochs, early stopping with patience 10 on the validation "
                    "loss, 10 % stratified validation split, training images shifted by up to "
                    "2 pixels for mnist, 1 for fashion-mnist).",
    )
    p.add_argument("--dataset", metavar="NAME",
                   help="digits (bundled, no download), mnist, fashion-mnist (default digits)")
    p.add_argument("--data", metavar="FILE",
                   help="your own data instead of --dataset: a .npz with arrays X (rows of "
                        "features) and y (integer labels), or a .csv whose last column is the "
                        "label (a header line is allowed); features are standardized with the "
                        "mean and standard deviation of the training rows, stored in the model")
    p.add_argument("--test-data", metavar="FILE",
                   help="with --data: the test set, same format (default: hold out "
                        "--test-split of --data, seeded and stratified)")
    p.add_argument("--test-split", type=float, metavar="X",
                   help="with --data and no --test-data: the fraction of every class held out "
                        "as the test set, never trained on (default 0.2)")
    p.add_argument("--scaling", choices=["standardize", "none"],
                   help="with --data: standardize each feature by the mean and standard "
                        "deviation of the training rows, or use the numbers as they are "
                        "(default standardize)")
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
                   help="step: multiply the learning rate by 0.3 after 50 %% and 75 %% of "
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
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="number type of the weights and the arithmetic (default float32, "
                        "fast; float64 for exact comparisons)")
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="train the best model the library can in this many seconds of training "
                        "passes: it chooses the network size, batch, learning-rate schedule "
                        "(warm-up + cosine over the budget) and augmentation by measuring this "
                        "machine; options you give still win (default: no budget, the "
                        "recommended settings)")
    p.add_argument("--threads", metavar="N",
                   help="BLAS threads for this run, or auto: as many as there are cores not "
                        "busy with other processes, re-checked after every epoch, and 1 where "
                        "2 are not measurably faster (default auto)")
    p.add_argument("--history", metavar="FILE",
                   help="write the per-epoch history as JSON Lines")
    p.add_argument("--plots", metavar="DIR",
                   help="write learning curves, the validation confusion matrix and "
                        "misclassified samples as PNG files into DIR (needs matplotlib)")
    p.add_argument("--label-smoothing", type=float, metavar="EPS",
                   help="train towards (1-EPS) on the true class and EPS/K spread over all K "
                        "classes instead of a hard 0/1 target (default 0: off)")
    p.add_argument("--save-on-interrupt", action="store_true",
                   help="if training is interrupted (Ctrl-C), save the weights of the best "
                        "epoch so far to --out instead of discarding the run")
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
    """Train under a BLAS thread limit chosen for this machine (or --threads)."""
    from ..model_io import check_output_dir
    from ..threads import ThreadManager, check_threads

    check_output_dir(args.out)  # a file in the way or a folder not ours: refused before training

    with ThreadManager(check_threads(getattr(args, "threads", None), "--threads")) as threads:
        return _run(args, threads)


def _run(args: argparse.Namespace, threads) -> int:
    import math
    import sys
    import warnings

    from ..activations import get_activation
    from ..errors import GlassnetError
    from ..initializers import get_initializer
    from ..training import Classifier, recommended
    from ..training.augment import parse_augment, parse_augment_spec
    from ..training.defaults import default_init, default_lr

    if args.data is None:
        for opt, value in (("--test-data", args.test_data), ("--test-split", args.test_split),
                           ("--scaling", args.scaling)):
            if value is not None:
                raise GlassnetError(f"{opt} goes with --data FILE (your own data)")
        args.dataset = args.dataset or "digits"
        check_dataset(args.dataset)
    else:
        _check_data_options(args)
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
    label_smoothing = args.label_smoothing if args.label_smoothing is not None else 0.0
    if not (math.isfinite(label_smoothing) and 0 <= label_smoothing < 1):
        raise GlassnetError(f"--label-smoothing must be a number in [0, 1), got "
                            f"{args.label_smoothing}")
    if args.time_budget is not None:
        from ..training.budget import check_budget

        check_budget(args.time_budget)
    if args.plots is not None:
        from ..plots import require_matplotlib

        require_matplotlib()  # fail before training, not after
    _check_output_files(args)  # --history/--plots never replace an input or enter a model

    progress = not args.quiet
    test = scaler = None
    if args.data is not None:
        train, test, dataset_info, scaler = _load_user_data(args)
        scaling = "standardize" if scaler else "none"
    else:
        from ..data import load_dataset

        train = load_dataset(args.dataset, "train", data_dir=args.data_dir, classes=classes,
                             progress=progress, dtype=args.dtype)
        dataset_info = {"name": args.dataset, "classes": classes}
        scaling = scaling_for(args.dataset)
    if train.n_classes < 2:
        raise GlassnetError(f"--classes: a classifier needs at least 2 classes, got "
                            f"{train.class_names}")
    budget = None
    if args.time_budget is not None:  # the library chooses what the user did not fix
        threads.set_shape((batch_size, train.n_features, hidden[0]), args.dtype)  # to measure
        budget, (hidden, batch_size, optimizer, lr, augment_spec, epochs, patience,
                 lr_schedule, label_smoothing) = _plan_budget(args, train, split, patience,
                                                              lr_schedule)
        if progress:
            print(budget.plan.describe(), file=sys.stderr)
    n_out = 1 if train.n_classes == 2 else train.n_classes  # one sigmoid output for a pair
    threads.set_shape((batch_size, train.n_features, hidden[0]), args.dtype,
                      sizes=[train.n_features, *hidden, n_out], optimizer=optimizer)
    # shifting needs images, and a shift the images are big enough for
    augment = parse_augment(augment_spec, train.image_shape, seed=args.seed)
    if budget is not None and budget.plan.standby_augment:  # switched on if the pace allows
        from ..training.budget import Standby

        augment = budget.standby = Standby(parse_augment(budget.plan.standby_augment,
                                                         train.image_shape, seed=args.seed))
        budget.standby_seconds_per_epoch = budget.plan.standby_seconds_per_epoch
    clf = Classifier.build(
        train.n_features, train.class_names, hidden=hidden, activation=act.name, init=init,
        dtype=args.dtype, seed=args.seed, image_shape=train.image_shape,
        scaling=scaling, dataset=dataset_info,
    )
    if scaler:
        clf.preprocessing.update(scaler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # divergence is reported below, once
            history = clf.fit(
                train.X, train.y, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                lr=lr, validation_split=split, early_stopping=patience, lr_schedule=lr_schedule,
                reduce_lr_patience=rec["reduce_lr_patience"] if lr_schedule == "plateau"
                else None,
                seed=args.seed, progress=progress, augment=augment,
                save_on_interrupt=args.save_on_interrupt,
                label_smoothing=label_smoothing,
                callbacks=[budget] if budget is not None else ())
    except KeyboardInterrupt:
        hint = ("no epoch had finished" if args.save_on_interrupt else
                "--save-on-interrupt keeps the best epoch so far")
        print(f"\nglassnet: interrupted; no model was written ({hint})", file=sys.stderr)
        return 130
    interrupted = history.stop_reason == "interrupted"  # Classifier.fit has said so
    if history.diverged:
        if history.restored_epoch is None:
            raise GlassnetError(history.message + " No model was written.")
        print(f"glassnet: warning: {history.message}", file=sys.stderr)
    if budget is not None:
        clf.training["time_budget"] = budget.plan.as_dict()
        if budget.standby is not None:
            clf.training["augment"] = budget.standby.spec  # what it became during the run
    if test is not None:
        try:
            m = clf.evaluate(test.X, test.y)
        except GlassnetError as exc:  # the model is kept; its test score cannot be computed
            print(f"glassnet: warning: test rows: {exc}", file=sys.stderr)
            clf.training["test"] = None
        else:
            clf.training["test"] = {"accuracy": m["accuracy"], "loss": m["loss"], "n": m["n"]}
    clf.save(args.out)
    if args.history:
        history.write_jsonl(args.history)
    if args.plots:
        from ..plots import training_plots

        written = training_plots(clf, history, args.plots, train)
        if progress:
            print(f"plots: {', '.join(str(p) for p in written)}", file=sys.stderr)
    if progress:
        # the saved weights: those restored (best or interrupt), else the last epoch's
        kept = history.restored_epoch
        rec_best = history.records[kept] if kept is not None else history.records[-1]
        acc = rec_best.get("val_accuracy")
        extra = f", val_accuracy {100 * acc:.2f}%" if acc is not None else ""
        after = " after the interrupt" if interrupted else ""
        print(f"saved {args.out}{after} (weights of epoch {rec_best['epoch'] + 1}{extra}; "
              f"{history.total_seconds:.1f} s of training)", file=sys.stderr)
        if test is not None and clf.training["test"] is not None:
            t = clf.training["test"]
            where = (f"--test-data {args.test_data}" if args.test_data else
                     f"held out from {args.data}, never trained on")
            print(f"test accuracy {100 * t['accuracy']:.2f}% on {t['n']} rows ({where})",
                  file=sys.stderr)
    elif interrupted:
        print(f"saved {args.out} (weights of epoch {history.restored_epoch + 1})",
              file=sys.stderr)
    return 130 if interrupted else 0


def _check_output_files(args: argparse.Namespace) -> None:
    """Refuse, before any data is loaded, a --history or --plots file that would destroy an
    input (``--data d.csv --history d.csv``) or land in a model folder (fileio's rule)."""
    from pathlib import Path

    from ..errors import GlassnetError
    from ..fileio import refuse_inside_model_folder, refuse_overwriting_inputs, refuse_same_outputs

    inputs = [("--data", args.data), ("--test-data", args.test_data),
              ("--data-dir", args.data_dir)]
    model = [("--out", args.out)]
    outputs = []
    if args.history is not None:
        refuse_overwriting_inputs(args.history, inputs, "--history", model_folders=model)
        outputs.append(("--history", args.history))
    if args.plots is not None:
        folder = Path(args.plots)
        if folder.exists() and not folder.is_dir():
            raise GlassnetError(f"--plots {folder}: a file is in the way; --plots names a "
                                "folder for the PNG files")
        for name in ("learning_curves.png", "confusion_matrix.png", "misclassified.png"):
            picture = folder / name
            if folder.is_dir():
                refuse_overwriting_inputs(picture, inputs, "--plots", model_folders=model)
            outputs.append(("--plots", picture))
        refuse_inside_model_folder(folder, "--plots", model_folders=model)
    refuse_same_outputs(outputs)


def _plan_budget(args: argparse.Namespace, train, split: float, patience: int,
                 lr_schedule: str):
    """--time-budget: a TimeBudget callback (with its plan) and the settings it chose."""
    from ..training.budget import TimeBudget, plan_budget

    given = {"hidden": parse_hidden(args.hidden) if args.hidden is not None else None,
             "batch_size": args.batch_size, "optimizer": args.optimizer, "lr": args.lr,
             "augment": args.augment, "epochs": args.epochs,
             "label_smoothing": args.label_smoothing}
    n_train = max(1, int(round(train.X.shape[0] * (1 - split))))
    plan = plan_budget(args.time_budget, n_train=n_train, n_features=train.n_features,
                       n_classes=train.n_classes, image_shape=train.image_shape,
                       dtype=args.dtype, given=given,
                       dataset=None if args.data is not None else args.dataset)
    budget = TimeBudget(plan.seconds, schedule=args.lr_schedule is None)
    budget.plan = plan
    patience = patience if args.early_stopping is not None else 0  # the clock ends the run
    lr_schedule = lr_schedule if args.lr_schedule is not None else "none"
    return budget, (plan.hidden, plan.batch_size, plan.optimizer, plan.lr, plan.augment,
                    plan.epochs, patience, lr_schedule, plan.label_smoothing)


def _check_data_options(args: argparse.Namespace) -> None:
    """--data excludes the built-in dataset options."""
    from ..errors import GlassnetError

    for opt, value in (("--dataset", args.dataset), ("--data-dir", args.data_dir),
                       ("--classes", args.classes)):
        if value is not None:
            raise GlassnetError(f"--data FILE replaces {opt}: give one or the other"
                                + (" (keep only the rows you want in the file)"
                                   if opt == "--classes" else ""))
    if args.test_data is not None and args.test_split is not None:
        raise GlassnetError("--test-split holds out part of --data; with --test-data there "
                            "is nothing to hold out: give one or the other")


def _load_user_data(args: argparse.Namespace):
    """(train, test, dataset record for model.json, scaler or None) from --data/--test-data."""
    import numpy as np

    from ..data.userdata import fit_standardizer, load_user_data, split_off_test
    from ..errors import GlassnetError

    data = load_user_data(args.data, what="--data")
    info = {"name": "data", "classes": None, "file": str(data.path), "sha256": data.sha256,
            "features": data.feature_names}
    if data.n_classes < 2:
        raise GlassnetError(f"--data {args.data}: every row has label {data.class_names[0]}; "
                            "a classifier needs at least 2 classes")
    if args.test_data is not None:
        test = load_user_data(args.test_data, what="--test-data")
        if test.n_features != data.n_features:
            raise GlassnetError(f"--test-data {args.test_data}: {test.n_features} features per "
                                f"row, but --data {args.data} has {data.n_features}")
        test = _relabel(test, data.class_names, f"--test-data {args.test_data}")
        train = data.subset(np.arange(data.n_samples), "train")
        info.update({"test_file": str(test.path), "test_sha256": test.sha256})
    else:
        fraction = 0.2 if args.test_split is None else args.test_split
        train, test = split_off_test(data, fraction, args.seed)
        info.update({"test_split": fraction, "seed": args.seed})
    scaling = args.scaling or "standardize"
    scaler = fit_standardizer(train.X) if scaling == "standardize" else None  # training rows only
    # a value the model's numbers cannot hold (as it is, or standardized): refused here, with
    # its file, line and column, not as an infinity (and a NumPy warning) during training
    from ..data.userdata import check_model_inputs

    check_model_inputs(train, scaler, args.dtype, f"--data {args.data}")
    check_model_inputs(test, scaler, args.dtype, f"--test-data {args.test_data}"
                       if args.test_data is not None else f"--data {args.data}")
    info["class_names"] = list(data.class_names)
    return train, test, info, scaler


def _relabel(data, class_names: list[str], where: str):
    """``data`` with labels re-indexed to ``class_names`` (the model's); unknown labels refused."""
    import numpy as np

    from ..errors import GlassnetError

    index = {name: i for i, name in enumerate(class_names)}
    unknown = [c for c in data.class_names if c not in index]
    if unknown:
        raise GlassnetError(f"{where}: label {unknown[0]} is not one of the training classes "
                            f"{', '.join(class_names)}")
    mapping = np.array([index[c] for c in data.class_names], dtype=np.int64)
    data.y = mapping[data.y]
    data.class_names = list(class_names)
    return data
