"""Export a glassnet model to ONNX, built with the ``onnx`` package's own helpers.

Why the scaling is inside: a model trained on MNIST saw pixels divided by
255, a model trained with ``--data`` standardized features. A deployed model
receives raw values, and a forgotten division gives confident nonsense; so
the graph starts with the model's own input scaling. It takes what
``glassnet predict`` takes, the features as the dataset stores them (digits
pixels 0..16, MNIST 0..255, a ``--data`` file's columns), and its output
equals predict's probabilities (and ``Classifier.predict_proba(X, raw=True)``).

The graph (opset :data:`OPSET`), for a model with input scaling
``"pixel / S"``::

    input (N, D) ─ Div(S) ─ Gemm(W1, b1, transB=1) ─ Relu ─ …
                 ─ Gemm(WL, bL, transB=1) ─ Softmax ─ probabilities (N, K)

A standardized model starts with Cast(float64) ─ Sub(mean) ─ Div(scale) ─
Cast, computed in float64 as glassnet does. ``Gemm`` with ``transB=1``
computes x Wᵀ + b, so the weights are stored exactly as glassnet (and
``nn.Linear``) keeps them. A binary model (one sigmoid output p) ends with
``Concat(1 − p, p)``: the two columns ``glassnet predict`` prints. The
model's dtype (float32 or float64) is kept; class names, scaling and the
architecture are in the model's metadata.

ONNX is optional: ``pip install 'glassnet[onnx]'`` (onnx + onnxruntime).

Example (needs onnx and onnxruntime)::

    >>> import numpy as np, onnxruntime as ort
    >>> from glassnet import Network
    >>> net = Network([2, 3, 2], ["tanh", "softmax"], "cross_entropy", dtype="float32")
    >>> proto = to_onnx(net)
    >>> sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    >>> x = np.array([[0.5, -1.0]], dtype=np.float32)
    >>> bool(np.allclose(sess.run(None, {"input": x})[0], net.predict(x), atol=1e-6))
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .common import (
    InteropError,
    as_network,
    check_activations,
    describe_scaling,
    input_scaling,
    network_metadata,
    require,
)

__all__ = ["to_onnx", "onnx_bytes", "OPSET", "INPUT_NAME", "OUTPUT_NAME"]

#: the ONNX operator set the graph declares (Softmax over one axis needs 13 or later)
OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "probabilities"


def _activation_node(helper: Any, act: Any, x: str, y: str, name: str) -> Any:
    ops = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "linear": "Identity"}
    if act.name in ops:
        return helper.make_node(ops[act.name], [x], [y], name=name)
    if act.name == "leaky_relu":
        return helper.make_node("LeakyRelu", [x], [y], name=name, alpha=act.alpha)
    if act.name == "softmax":
        return helper.make_node("Softmax", [x], [y], name=name, axis=-1)
    raise InteropError(f"activation {act.name!r} has no ONNX equivalent")  # pragma: no cover


def _scaling_nodes(helper: Any, numpy_helper: Any, TensorProto: Any, kind: str, value: Any,
                   dtype: np.dtype) -> tuple[list[Any], list[Any], str]:
    """(nodes, initializers, name of the network's input) for the input scaling."""
    if kind == "none":
        return [], [], INPUT_NAME
    if kind == "divide":
        return ([helper.make_node("Div", [INPUT_NAME, "scale"], ["x"], name="input_scaling")],
                [numpy_helper.from_array(np.array(value, dtype=dtype), "scale")], "x")
    # standardize in float64, as glassnet does, then to the network's dtype
    mean, scale = value
    to = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    nodes = [
        helper.make_node("Cast", [INPUT_NAME], ["input64"], name="to_float64",
                         to=TensorProto.DOUBLE),
        helper.make_node("Sub", ["input64", "mean"], ["centred"], name="minus_mean"),
        helper.make_node("Div", ["centred", "scale"], ["x64"], name="divide_by_scale"),
        helper.make_node("Cast", ["x64"], ["x"], name="to_network_dtype", to=to),
    ]
    inits = [numpy_helper.from_array(mean, "mean"), numpy_helper.from_array(scale, "scale")]
    return nodes, inits, "x"


def to_onnx(model: Any, *, scaling: str | None = None, opset: int = OPSET) -> Any:
    """The ``onnx.ModelProto`` of a glassnet Network or Classifier, checked by onnx.checker.

    Input ``input`` (N, D): the raw rows the model's preprocessing applies to
    (for a Classifier: ``"pixel / N"`` divides, a stored mean and scale
    standardize); for a bare Network its inputs as they are, unless
    ``scaling="pixel / N"`` is given. Output ``probabilities`` (N, K): one
    column per class, as ``glassnet predict`` prints them (for a bare
    Network: its outputs).
    """
    onnx = require("onnx", "onnx", "ONNX export")
    from onnx import TensorProto, helper, numpy_helper

    net = as_network(model)
    check_activations(net, "ONNX")
    classifier = model is not net
    if classifier and scaling is not None:
        raise InteropError("to_onnx: scaling= is for a bare Network; a Classifier's "
                           "preprocessing already says how its inputs are scaled")
    preprocessing = model.preprocessing if classifier else {"scaling": scaling}
    kind, value = input_scaling(preprocessing)
    if kind == "standardize" and len(value[0]) != net.n_inputs:
        raise InteropError(f"preprocessing: {len(value[0])} means for {net.n_inputs} inputs")
    if isinstance(opset, bool) or not isinstance(opset, int) \
            or not 13 <= opset <= onnx.defs.onnx_opset_version():
        raise InteropError(f"opset (--opset) must be an integer from 13 to "
                           f"{onnx.defs.onnx_opset_version()}, got {opset!r}")
    dtype = net.dtype
    elem = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    binary = classifier and getattr(model, "task", None) == "binary"
    n_out = 2 if binary else net.n_outputs

    nodes, inits, x = _scaling_nodes(helper, numpy_helper, TensorProto, kind, value, dtype)
    for l, layer in enumerate(net.layers, start=1):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(layer.W), f"W{l}"))
        inputs = [x, f"W{l}"]
        if layer.b is not None:
            inits.append(numpy_helper.from_array(np.ascontiguousarray(layer.b), f"b{l}"))
            inputs.append(f"b{l}")
        nodes.append(helper.make_node("Gemm", inputs, [f"z{l}"], name=f"layer{l}_z", transB=1))
        last = l == len(net.layers)
        a = OUTPUT_NAME if last and not binary else f"a{l}"
        nodes.append(_activation_node(helper, layer.activation, f"z{l}", a, f"layer{l}_a"))
        x = a
    if binary:  # [1 − p, p], the columns of Classifier.predict_proba
        inits.append(numpy_helper.from_array(np.array(1.0, dtype=dtype), "one"))
        nodes.append(helper.make_node("Sub", ["one", x], ["q"], name="negative_class"))
        nodes.append(helper.make_node("Concat", ["q", x], [OUTPUT_NAME], name="probabilities",
                                      axis=1))

    graph = helper.make_graph(
        nodes, "glassnet_mlp",
        [helper.make_tensor_value_info(INPUT_NAME, elem, ["N", net.n_inputs])],
        [helper.make_tensor_value_info(OUTPUT_NAME, elem, ["N", n_out])],
        initializer=inits,
        doc_string=f"glassnet MLP {net.sizes}; input '{INPUT_NAME}' scaling: "
                   f"{describe_scaling(preprocessing)}; output '{OUTPUT_NAME}': one column "
                   f"per class",
    )
    opset_id = helper.make_opsetid("", opset)
    proto = helper.make_model(graph, opset_imports=[opset_id], producer_name="glassnet",
                              ir_version=helper.find_min_ir_version_for([opset_id]))
    from .._version import __version__

    proto.producer_version = __version__
    meta = network_metadata(model)
    meta.pop("torch_sequential", None)
    meta["layout"] = ("initializer Wl = W of layer l, shape (units out, units in), bl = b; "
                      "Gemm(transB=1) computes x W^T + b, as torch.nn.Linear")
    meta["input_scaling"] = describe_scaling(preprocessing)
    helper.set_model_props(proto, meta)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as exc:  # pragma: no cover (a bug here, not input)
        raise InteropError(f"the ONNX graph failed onnx.checker: {exc}") from None
    return proto


def onnx_bytes(model: Any, **kwargs: Any) -> bytes:
    """:func:`to_onnx` serialized: the content of a ``.onnx`` file."""
    return to_onnx(model, **kwargs).SerializeToString()


def describe(model: Any) -> str:
    """One line on the input and output of the exported graph, for the CLI."""
    net = as_network(model)
    classifier = model is not net
    scaling = describe_scaling(model.preprocessing if classifier else None)
    n_out = 2 if classifier and model.task == "binary" else net.n_outputs
    columns = ("p(" + "), p(".join(model.class_names) + ")") if classifier else "outputs"
    return (f"input '{INPUT_NAME}' (N, {net.n_inputs}) {net.dtype.name}, scaling: {scaling}\n"
            f"output '{OUTPUT_NAME}' (N, {n_out}): {columns}")
