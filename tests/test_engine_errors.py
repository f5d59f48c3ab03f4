"""Bad input raises a GlassnetError subclass whose message names what, where, and what was
expected."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import GlassnetError, Network, NonFiniteError, ShapeError, UnknownNameError
from glassnet.errors import unknown_name


def test_error_hierarchy():
    for cls in (ShapeError, UnknownNameError, NonFiniteError):
        assert issubclass(cls, GlassnetError)
    assert issubclass(GlassnetError, ValueError)
    assert issubclass(UnknownNameError, KeyError)  # so dict-style lookups can catch it too
    # KeyError would print the message in quotes; UnknownNameError does not
    assert str(unknown_name("loss", "x", ["a"])) == "unknown loss 'x'; expected one of: a"


# -------------------------------------------------------------------------------- inputs
def test_wrong_input_width_names_layer_and_expected_shape():
    net = Network([5, 3, 2])
    with pytest.raises(ShapeError, match=r"layer 1: input X must have shape \(samples, 5\), "
                                         r"got shape \(2, 4\)"):
        net.forward(np.zeros((2, 4)))
    with pytest.raises(ShapeError, match=r"must have shape \(samples, 5\), got shape \(2, 5, 1\)"):
        net.forward(np.zeros((2, 5, 1)))
    with pytest.raises(ShapeError, match=r"input X must have shape"):
        net.predict(np.zeros((3, 6)))


def test_wrong_target_shape_names_the_output_layer():
    net = Network([3, 4, 2])
    net.forward(np.zeros((4, 3)))
    with pytest.raises(ShapeError, match=r"layer 2 \(output\): targets T must have shape "
                                         r"\(samples, 2\), got shape \(4, 3\)"):
        net.backward(np.zeros((4, 3)))
    with pytest.raises(ShapeError, match="targets T have 3 rows but the last forward batch had 4"):
        net.backward(np.zeros((3, 2)))
    with pytest.raises(ShapeError, match="X has 4 rows but T has 2"):
        net.compute_loss(np.zeros((4, 3)), np.zeros((2, 2)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_and_targets_name_row_and_column(bad):
    net = Network([3, 2])
    X = np.zeros((4, 3))
    X[2, 1] = bad
    with pytest.raises(NonFiniteError, match="layer 1: input X contains a non-finite value at "
                                             "row 2, column 1"):
        net.forward(X)
    net.forward(np.zeros((2, 3)))
    T = np.zeros((2, 2))
    T[1, 0] = bad
    with pytest.raises(NonFiniteError, match="targets T contains a non-finite value at row 1, "
                                             "column 0"):
        net.backward(T)


@pytest.mark.parametrize(("X", "match"), [
    ([[1, 2], [3]], "not a rectangular array"),
    ([["a", "b"]], "must be numbers, got dtype"),
    (np.zeros((0, 2)), "has no rows"),
])
def test_malformed_inputs(X, match):
    with pytest.raises(GlassnetError, match=match):
        Network([2, 1]).forward(X)


def test_backward_before_forward():
    with pytest.raises(GlassnetError, match=r"backward\(\) needs a forward\(\) pass first"):
        Network([2, 1]).backward([[1.0]])


# -------------------------------------------------------------------------- construction
LAYER_SIZES_MESSAGE = r"layers must be a list of at least 2 positive integers \(input first\), got"


@pytest.mark.parametrize("layers", [[3], [], [0, 2], [2, -1], "abc", 5, [2, None], ["2", 1]])
def test_bad_layer_sizes(layers):
    with pytest.raises(ShapeError, match=LAYER_SIZES_MESSAGE):
        Network(layers)


def test_fractional_layer_size_is_refused():
    with pytest.raises(ShapeError, match=LAYER_SIZES_MESSAGE):
        Network([2.5, 1])


def test_integral_floats_and_numpy_integers_are_accepted_sizes():
    assert Network([np.int64(3), 2.0]).sizes == [3, 2]


@pytest.mark.parametrize(("kind", "kwargs", "suggestion"), [
    ("activation", {"activation": "sigmod"}, "sigmoid"),
    ("activation", {"activation": ["tanh", "softmx"]}, "softmax"),
    ("loss", {"loss": "half_see"}, "half_sse"),
    ("initializer", {"weights": "glorot_unifrom"}, "glorot_uniform"),
    ("initializer", {"biases": "zeroes"}, "zeros"),
])
def test_unknown_names_suggest_the_closest(kind, kwargs, suggestion):
    with pytest.raises(UnknownNameError, match=rf"unknown {kind} .*\(did you mean "
                                               rf"'{suggestion}'\?\); expected one of: "):
        Network([2, 3, 2], **kwargs)


def test_unknown_name_without_a_close_match_still_lists_the_valid_ones():
    with pytest.raises(UnknownNameError) as info:
        Network([2, 2], "xyzzy")
    message = str(info.value)
    assert "did you mean" not in message
    assert "leaky_relu, linear, relu, sigmoid, softmax, tanh" in message


def test_softmax_is_refused_in_a_hidden_layer():
    with pytest.raises(GlassnetError, match="layer 1: softmax is only supported on the output "
                                            "layer"):
        Network([3, 4, 2], ["softmax", "softmax"], "cross_entropy")
    with pytest.raises(GlassnetError, match="layer 2: softmax"):
        Network([3, 4, 4, 2], ["tanh", "softmax", "sigmoid"])
    with pytest.raises(GlassnetError, match="layer 1: softmax"):
        Network([3, 4, 2], "softmax")  # one name for every layer includes the hidden one


def test_wrong_number_of_activations():
    with pytest.raises(ShapeError, match=r"activation: expected one name per non-input layer "
                                         r"\(2\), got 3"):
        Network([3, 4, 2], ["tanh", "tanh", "sigmoid"])


def test_wrong_weight_matrix_shape_names_layer_and_expected_shape():
    with pytest.raises(ShapeError, match=r"weights\[0\] \(layer 1\) must have shape \(3, 2\) "
                                         r"\(units of layer 1, units of layer 0\), got \(2, 3\)"):
        Network([2, 3, 1], weights=[np.ones((2, 3)), np.ones((1, 3))])
    with pytest.raises(ShapeError, match=r"weights\[1\] \(layer 2\) must have shape \(1, 3\)"):
        Network([2, 3, 1], weights=[np.ones((3, 2)), np.ones((3, 1))])
    with pytest.raises(ShapeError, match=r"biases\[1\] \(layer 2\) must have shape \(1,\) "
                                         r"\(one per unit of layer 2\), got \(3,\)"):
        Network([2, 3, 1], biases=[np.zeros(3), np.zeros(3)])


def test_wrong_number_of_weight_arrays():
    with pytest.raises(ShapeError, match=r"weights: expected one array per non-input layer "
                                         r"\(2\), got 1"):
        Network([2, 3, 1], weights=[np.ones((3, 2))])


def test_non_numeric_or_non_finite_weights():
    with pytest.raises(ShapeError, match=r"weights\[0\] \(layer 1\) must be a numeric array"):
        Network([2, 1], weights=[[["a", "b"]]])
    with pytest.raises(NonFiniteError, match=r"biases\[0\] \(layer 1\) contains a non-finite"):
        Network([2, 1], biases=[[np.nan]])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"dtype": "float16"}, "dtype must be 'float32' or 'float64', got 'float16'"),
    ({"dtype": "int32"}, "dtype must be 'float32' or 'float64'"),
    ({"dtype": "bogus"}, "dtype must be 'float32' or 'float64'"),
    ({"reduction": "avg"}, "reduction must be 'sum' or 'mean', got 'avg'"),
])
def test_bad_dtype_and_reduction(kwargs, match):
    with pytest.raises(GlassnetError, match=match):
        Network([2, 1], **kwargs)


# ---------------------------------------------------------------------------- persistence
def test_set_weights_errors_name_the_array():
    net = Network([2, 3, 1])
    good = net.get_weights()
    with pytest.raises(GlassnetError, match="set_weights: missing array 'b2'"):
        net.set_weights({k: v for k, v in good.items() if k != "b2"})
    with pytest.raises(ShapeError, match=r"set_weights: W2 must have shape \(1, 3\), got \(3, 1\)"):
        net.set_weights({**good, "W2": np.ones((3, 1))})
    with pytest.raises(NonFiniteError, match="set_weights: W1 must be finite numbers"):
        net.set_weights({**good, "W1": np.full((3, 2), np.nan)})
    with pytest.raises(GlassnetError, match="set_weights: unexpected array 'W3'"):
        net.set_weights({**good, "W3": np.ones((1, 1))})


def test_from_config_errors():
    config = Network([2, 1]).get_config()
    with pytest.raises(GlassnetError, match="network config: unknown key 'colour'"):
        Network.from_config({**config, "colour": "blue"})
    with pytest.raises(GlassnetError, match="network config: missing key 'loss'"):
        Network.from_config({k: v for k, v in config.items() if k != "loss"})


@pytest.mark.parametrize("seed", [-1, "abc", 1.5])
def test_bad_seed_is_a_glassnet_error(seed):
    with pytest.raises(GlassnetError, match="seed"):
        Network([2, 2], seed=seed)
