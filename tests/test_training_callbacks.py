"""EarlyStopping, ReduceLROnPlateau and StepDecay semantics: patience, min_delta, mode, weights."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import SGD, Network
from glassnet.errors import GlassnetError
from glassnet.training import Callback, EarlyStopping, ReduceLROnPlateau, StepDecay, fit
from glassnet.training.callbacks import FitState


def make_net(seed=0):
    return Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", weights="glorot_uniform",
                   reduction="mean", seed=seed)


def drive(callback, values, monitor="val_loss", net=None):
    """Feed a scripted sequence of monitored values; give each epoch distinct weights.

    Returns (state, epochs run, weights per epoch)."""
    net = net or make_net()
    state = FitState(network=net, optimizer=SGD(lr=0.1),
                     params={"metrics": ["loss", "val_loss", "val_accuracy"]})
    callback.set_state(state)
    callback.on_train_begin({})
    snapshots = []
    run = 0
    for epoch, v in enumerate(values):
        for layer in net.layers:
            layer.W[...] = epoch  # the weights "of epoch e" are all equal to e
        snapshots.append(net.get_weights())
        callback.on_epoch_end(epoch, {"loss": 1.0, monitor: v})
        run = epoch + 1
        if state.stop_training:
            break
    callback.on_train_end({})
    return state, run, snapshots


def weights_value(net):
    values = {float(v) for layer in net.layers for v in np.unique(layer.W)}
    assert len(values) == 1
    return values.pop()


def test_patience_counts_epochs_without_improvement():
    stop = EarlyStopping(patience=3)
    state, run, _ = drive(stop, [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.4])
    assert run == 5 and stop.stopped_epoch == 4  # 3 epochs (2, 3, 4) without improvement
    assert stop.best_epoch == 1 and stop.best == 0.9
    assert state.stop_reason == "early_stopping" and "did not improve for 3" in \
        state.stop_message


def test_improvement_resets_the_wait():
    stop = EarlyStopping(patience=2)
    _, run, _ = drive(stop, [1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.9, 0.1])
    assert run == 7 and stop.best_epoch == 4


def test_min_delta():
    stop = EarlyStopping(patience=2, min_delta=0.05)
    # 0.96 is not 0.05 better than 1.0, 0.94 is; 0.9 is not 0.05 better than 0.94
    _, run, _ = drive(stop, [1.0, 0.96, 0.94, 0.9, 0.9, 0.1])
    assert stop.best_epoch == 2 and run == 5


def test_mode_max_and_auto_for_accuracy():
    stop = EarlyStopping(monitor="val_accuracy", patience=1)
    assert stop.mode == "max"
    _, run, _ = drive(stop, [0.5, 0.7, 0.6], monitor="val_accuracy")
    assert stop.best_epoch == 1 and run == 3
    assert EarlyStopping(monitor="val_accuracy", mode="min").mode == "min"


def test_nan_is_never_an_improvement():
    stop = EarlyStopping(patience=2)
    _, run, _ = drive(stop, [1.0, float("nan"), float("nan"), 0.1])
    assert stop.best_epoch == 0 and run == 3


@pytest.mark.parametrize("values, best", [
    ([1.0, 0.5, 0.7, 0.8], 1),          # stopping does not fire (patience 5): still restored
    ([1.0, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2], 1),   # stopping fires
])
def test_restore_best_weights_whether_or_not_stopping_fired(values, best):
    stop = EarlyStopping(patience=5, restore_best_weights=True)
    state, run, _ = drive(stop, values)
    assert weights_value(state.network) == best
    assert stop.restored_epoch == best and state.restored_epoch == best
    assert (stop.stopped_epoch is not None) == (len(values) > 6)


def test_no_restore_when_last_epoch_is_best_or_when_off():
    stop = EarlyStopping(patience=5)
    state, run, _ = drive(stop, [1.0, 0.5, 0.4])
    assert weights_value(state.network) == 2 and stop.restored_epoch is None
    stop = EarlyStopping(patience=5, restore_best_weights=False)
    state, run, _ = drive(stop, [1.0, 0.5, 0.7])
    assert weights_value(state.network) == 2 and stop.best_weights is None


def test_state_is_reset_between_runs():
    stop = EarlyStopping(patience=1)
    drive(stop, [1.0, 2.0])
    _, run, _ = drive(stop, [5.0, 4.0, 3.0])
    assert run == 3 and stop.stopped_epoch is None and stop.best_epoch == 2


@pytest.mark.parametrize("kwargs", [{"patience": 0}, {"patience": -1}, {"patience": 1.5},
                                    {"min_delta": -0.1}, {"mode": "up"}, {"monitor": ""}])
def test_bad_settings(kwargs):
    with pytest.raises(GlassnetError):
        EarlyStopping(**kwargs)


def test_monitoring_val_loss_without_validation_is_an_error():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, 20)
    with pytest.raises(GlassnetError, match="no validation data"):
        fit(make_net(), X, y, epochs=2, callbacks=[EarlyStopping()], progress=False)
    h = fit(make_net(), X, y, epochs=2, callbacks=[EarlyStopping(monitor="loss")],
            progress=False)
    assert len(h) == 2


class Script(Callback):
    """Overwrite the logged val_loss with scripted values (runs before EarlyStopping)."""

    def __init__(self, values):
        self.values = values
        self.weights = []

    def on_epoch_end(self, epoch, logs):
        logs["val_loss"] = self.values[epoch]
        self.weights.append(self.state.network.get_weights())


@pytest.mark.parametrize("patience, epochs_run", [(10, 6), (2, 4)])
def test_fit_restores_best_epoch_weights(patience, epochs_run):
    """Through fit: with patience 10 stopping never fires and the best (epoch 1) still returns."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    script = Script([1.0, 0.2, 0.5, 0.6, 0.7, 0.8])
    stop = EarlyStopping(patience=patience)
    net = make_net()
    h = fit(net, X, y, epochs=6, batch_size=8, optimizer=SGD(lr=0.1), validation_split=0.25,
            callbacks=[script, stop], progress=False)
    assert len(h) == epochs_run and stop.best_epoch == 1 and h.restored_epoch == 1
    assert h.stop_reason == ("early_stopping" if patience == 2 else "completed")
    for name, w in net.get_weights().items():
        np.testing.assert_array_equal(w, script.weights[1][name])
    assert "restored the weights of epoch 2" in h.message  # index 1 is the 2nd epoch (from 1)


def test_reduce_lr_on_plateau():
    cb = ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.02)
    state, _, _ = drive(cb, [1.0, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9])
    # stalls at epochs 1-2 -> 0.05; improvement at 3; stalls 4-5 -> 0.025; 6-7 -> 0.02 (floor)
    assert [lr for _, lr in cb.reductions] == [0.05, 0.025, 0.02]
    assert state.optimizer.lr == 0.02


class LrLog(Callback):
    """Records the learning rate each epoch trains with."""

    def __init__(self):
        self.lrs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.lrs.append(self.state.optimizer.lr)


def test_step_decay_multiplies_lr_when_milestone_epochs_begin():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 2, 30)
    decay, log = StepDecay([2, 4], factor=0.5), LrLog()
    fit(make_net(), X, y, epochs=6, batch_size=10, optimizer=SGD(lr=0.8),
        callbacks=[decay, log], progress=False)
    assert log.lrs == [0.8, 0.8, 0.4, 0.4, 0.2, 0.2]
    assert decay.reductions == [(2, 0.4), (4, 0.2)]


def test_step_decay_at_fractions_and_bad_input():
    assert StepDecay.at_fractions(40, (0.5, 0.75)).milestones == [20, 30]
    assert StepDecay.at_fractions(30, (0.75, 0.5), 0.1).milestones == [15, 22]
    assert StepDecay.at_fractions(1, (0.25,)).milestones == []  # no epoch to start later
    for bad in ([0], [1.5], [True]):
        with pytest.raises(GlassnetError, match="milestones"):
            StepDecay(bad)
    for factor in (0, 1, 1.5, -0.3):
        with pytest.raises(GlassnetError, match="factor"):
            StepDecay([3], factor)
    with pytest.raises(GlassnetError, match="fractions"):
        StepDecay.at_fractions(10, (1.5,))


@pytest.mark.parametrize("schedule, patience, expected", [
    (None, None, ("step", 0)),  # the recommendation
    (None, 3, ("plateau", 3)),  # how older callers asked for the plateau schedule
    (None, 0, ("none", 0)),
    ("plateau", None, ("plateau", 2)),
    ("none", None, ("none", 0)),
    ("step", 0, ("step", 0)),
])
def test_classifier_lr_schedule_resolution(schedule, patience, expected):
    from glassnet.training.classifier import _lr_schedule

    assert _lr_schedule(schedule, patience) == expected


@pytest.mark.parametrize("schedule, patience, match", [
    ("step", 2, "only to lr_schedule='plateau'"),
    ("plateau", 0, "needs reduce_lr_patience"),
    ("cosine", None, "unknown learning-rate schedule 'cosine'"),
    (None, -1, "reduce_lr_patience"),
])
def test_classifier_lr_schedule_errors(schedule, patience, match):
    from glassnet.training.classifier import _lr_schedule

    with pytest.raises(GlassnetError, match=match):
        _lr_schedule(schedule, patience)


def test_classifier_fit_uses_the_step_schedule_by_default():
    from glassnet.training import Classifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, 60)
    clf = Classifier.build(3, 2, hidden=[4])
    log = LrLog()
    clf.fit(X, y, epochs=8, lr=0.01, callbacks=[log], progress=False)
    assert log.lrs == pytest.approx([0.01] * 4 + [0.003] * 2 + [0.0009] * 2)
    assert clf.training["lr_schedule"] == {"name": "step", "milestones": [4, 6], "factor": 0.3}
    clf = Classifier.build(3, 2, hidden=[4])
    clf.fit(X, y, epochs=3, reduce_lr_patience=2, progress=False)  # the older way: plateau
    assert clf.training["lr_schedule"]["name"] == "plateau"
    assert clf.training["reduce_lr_patience"] == 2
