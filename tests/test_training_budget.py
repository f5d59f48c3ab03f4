"""--time-budget: the clock-driven schedule, the plan, and the contract on the history's seconds."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.cli import main
from glassnet.errors import GlassnetError
from glassnet.training.budget import (
    MIN_EPOCHS_AUGMENT,
    WIDTHS,
    TimeBudget,
    check_budget,
    plan_budget,
)


# ---------------------------------------------------------------- schedule
@settings(max_examples=100, deadline=None)
@given(warmup=st.floats(0.0, 0.5), a=st.floats(0, 1), b=st.floats(0, 1))
def test_lr_factor_shape(warmup, a, b):
    tb = TimeBudget(10.0, warmup=warmup)
    assert tb.lr_factor(1.0) == pytest.approx(0.0, abs=1e-12)
    assert tb.lr_factor(warmup) == pytest.approx(1.0)
    lo, hi = sorted((a, b))
    fa, fb = tb.lr_factor(lo), tb.lr_factor(hi)
    assert 0.0 <= fa <= 1.0 and 0.0 <= fb <= 1.0
    if lo >= warmup:
        assert fb <= fa + 1e-12  # after the warm-up the rate only falls
    elif hi <= warmup:
        assert fa <= fb + 1e-12  # during it only rises


def test_lr_factor_is_the_cosine():
    tb = TimeBudget(10.0, warmup=0.0)
    for f in (0.1, 0.25, 0.5, 0.9):
        assert tb.lr_factor(f) == pytest.approx(0.5 * (1 + math.cos(math.pi * f)))


@pytest.mark.parametrize("bad", [0, -1, 0.1, float("nan"), float("inf"), "5", True, None])
def test_check_budget_refuses(bad):
    with pytest.raises(GlassnetError, match="time-budget"):
        check_budget(bad)


# -------------------------------------------------------------------- plan
def machine(per_unit: float = 2e-10):
    """A model of a machine: a step costs per_unit seconds per multiply-add of the batch."""
    def step(sizes, batch):
        return per_unit * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return step


def plan(seconds, **kw):
    args = dict(n_train=54000, n_features=784, n_classes=10, image_shape=(28, 28),
                step_seconds=machine(), augment_seconds=0.0)
    args.update(kw)
    return plan_budget(seconds, **args)


def test_plan_grows_with_the_budget():
    sizes = [sum(plan(s).hidden) for s in (1, 5, 30, 120, 600, 5000)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert plan(1).hidden == list(WIDTHS[0])


def test_plan_epochs_match_the_machine_model():
    p = plan(30)
    step = machine()([784, *p.hidden, 10], p.batch_size)
    per_epoch = 2.0 * step * math.ceil(54000 / p.batch_size)
    assert p.expected_epochs == pytest.approx(30 / per_epoch)
    assert p.epochs >= p.expected_epochs  # the cap never cuts the budget short


def test_plan_distorts_only_images_with_enough_epochs():
    long = plan(5000)
    assert long.expected_epochs >= MIN_EPOCHS_AUGMENT and long.augment == "distort"
    assert plan(5).augment == "none"
    assert plan(5000, dataset="fashion-mnist").augment == "shift:1"
    assert plan(5000, n_features=64, image_shape=(8, 8)).augment == "none"
    assert plan(5000, image_shape=None).augment == "none"


def test_augmentation_cost_counts():
    """Augmenting that costs as much as a step halves the epochs: a budget that buys just
    enough epochs without it must not augment, or must pick a smaller network to."""
    free = plan(30)
    costly = plan(30, augment_seconds=1.0)  # a second per batch: never affordable
    assert free.augment == "distort" and costly.augment == "none"
    assert costly.expected_epochs >= 4  # and the network is chosen as without augmentation


def test_plan_trains_with_momentum_unless_told():
    """Momentum, not Adam, from SHORT_BUDGET on (its update is three passes over the
    weights, Adam's ten), at the peak rate of BUDGET_LR scaled by √(batch / 128)."""
    from glassnet.training.budget import (
        BUDGET_LR,
        BUDGET_OPTIMIZER,
        SHORT_BUDGET,
        SHORT_OPTIMIZER,
    )

    p = plan(600)
    assert p.optimizer == BUDGET_OPTIMIZER == "momentum"
    assert p.lr == pytest.approx(BUDGET_LR["momentum"] * math.sqrt(p.batch_size / 128))
    assert plan(600, given={"optimizer": "adam"}).optimizer == "adam"
    short = plan(SHORT_BUDGET / 2)  # a few epochs: Adam's per-weight steps go further
    assert short.optimizer == SHORT_OPTIMIZER == "adam"
    assert short.lr == pytest.approx(BUDGET_LR["adam"] * math.sqrt(short.batch_size / 128))


def test_plan_smooths_labels_only_for_long_runs():
    """Label smoothing paid where the network fits its training rows (many epochs), not in
    40-epoch runs: the plan uses it from MIN_EPOCHS_SMOOTHING expected epochs on."""
    from glassnet.training.budget import BUDGET_LABEL_SMOOTHING, MIN_EPOCHS_SMOOTHING

    long, short = plan(5000), plan(5)
    assert long.expected_epochs >= MIN_EPOCHS_SMOOTHING
    assert long.label_smoothing == BUDGET_LABEL_SMOOTHING > 0
    assert short.expected_epochs < MIN_EPOCHS_SMOOTHING and short.label_smoothing == 0
    assert plan(5000, given={"label_smoothing": 0.0}).label_smoothing == 0
    assert "label smoothing 0.1" in long.describe()
    assert long.as_dict()["label_smoothing"] == BUDGET_LABEL_SMOOTHING


def test_given_options_win():
    p = plan(600, given={"hidden": [64], "batch_size": 32, "optimizer": "sgd", "lr": 0.05,
                         "augment": "shift:2", "epochs": 3})
    assert (p.hidden, p.batch_size, p.optimizer, p.lr, p.augment, p.epochs) == \
        ([64], 32, "sgd", 0.05, "shift:2", 3)


# ------------------------------------------------- the contract, end to end
def test_time_budget_on_digits_sums_to_the_budget(tmp_path, capsys):
    """The seconds in --history add up to the budget within 10 % (the contract)."""
    budget = 3.0  # long enough that a scheduler hiccup of the shared machine is < 10 %
    code = main(["train", "--dataset", "digits", "--time-budget", str(budget), "--quiet",
                 "--out", str(tmp_path / "m"), "--history", str(tmp_path / "h.jsonl")])
    assert code == 0, capsys.readouterr().err
    records = [json.loads(line) for line in (tmp_path / "h.jsonl").read_text().splitlines()]
    total = sum(r["seconds"] for r in records)
    assert abs(total / budget - 1) <= 0.10
    model = json.loads((tmp_path / "m" / "model.json").read_text())
    assert model["training"]["time_budget"]["seconds"] == budget
    assert model["training"]["lr_schedule"] is None  # the budget's own clock schedule
    assert model["training"]["early_stopping"] == 0
    # the contract's default validation split holds with a budget too
    assert all(r["val_loss"] is not None for r in records)
    assert model["training"]["time_budget"]["optimizer"] == "adam"  # a short budget


def test_time_budget_trains_on_every_row_when_asked(tmp_path, capsys):
    code = main(["train", "--dataset", "digits", "--time-budget", "1", "--quiet",
                 "--validation-split", "0", "--out", str(tmp_path / "m"),
                 "--history", str(tmp_path / "h.jsonl")])
    assert code == 0, capsys.readouterr().err
    records = [json.loads(line) for line in (tmp_path / "h.jsonl").read_text().splitlines()]
    assert all(r["val_loss"] is None for r in records)
    model = json.loads((tmp_path / "m" / "model.json").read_text())
    assert model["training"]["n_val"] == 0


def test_time_budget_callback_in_fit_stops_mid_epoch():
    """A budget far below one epoch stops inside the first epoch, after at least one batch."""
    from glassnet import Network
    from glassnet.training import fit

    rng = np.random.default_rng(0)
    X = rng.random((20000, 32)).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int)
    net = Network([32, 64, 2], ["relu", "softmax"], "cross_entropy", weights="he_normal",
                  reduction="mean", dtype="float32", seed=0)
    tb = TimeBudget(0.5)
    h = fit(net, X, y, epochs=1000, batch_size=1, optimizer="adam", progress=False,
            callbacks=[tb], threads=1)
    assert h.stop_reason == "time_budget"
    assert abs(h.total_seconds / 0.5 - 1) <= 0.10
    assert tb.steps >= 1 and math.isfinite(h["loss"][-1])


def test_cli_bad_budget_exit_2(tmp_path, capsys):
    code = main(["train", "--dataset", "digits", "--time-budget", "0", "--out",
                 str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "--time-budget" in err and "Traceback" not in err


# ----------------------------------------------------------------- standby
class CountingAugment:
    spec = "count"

    def __init__(self):
        self.calls = 0

    def __call__(self, x, rng):
        self.calls += 1


def _standby_run(cost_per_epoch):
    from glassnet import Network
    from glassnet.training import fit
    from glassnet.training.budget import Standby

    rng = np.random.default_rng(0)
    X = rng.random((512, 16)).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int)
    net = Network([16, 8, 2], ["relu", "softmax"], "cross_entropy", weights="he_normal",
                  reduction="mean", dtype="float32", seed=0)
    inner = CountingAugment()
    standby = Standby(inner)
    tb = TimeBudget(0.6, standby=standby, standby_seconds_per_epoch=cost_per_epoch)
    h = fit(net, X, y, epochs=100000, batch_size=64, progress=False, callbacks=[tb],
            augment=standby, threads=1)
    return h, standby, inner


def test_standby_switches_on_when_the_pace_leaves_enough_epochs():
    h, standby, inner = _standby_run(0.0)  # tiny epochs: hundreds fit in 0.6 s
    assert len(h) >= 12 and standby.enabled and standby.switched_on_at == 1
    # off during the first epoch (8 batches), on for every batch after it
    assert 8 * (len(h) - 2) < inner.calls <= 8 * (len(h) - 1)
    assert standby.spec == "count (from epoch 2)"


def test_standby_stays_off_when_augmenting_would_cost_too_much():
    h, standby, inner = _standby_run(10.0)  # "10 s per epoch": never affordable
    assert not standby.enabled and inner.calls == 0
    assert standby.spec == "none (count on standby)"
