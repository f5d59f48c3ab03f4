"""Explain one SGD step of a PyTorch MLP with glassnet, and check every number against autograd.

A small ``nn.Sequential`` (2 inputs, 3 sigmoid units, 2 softmax outputs,
float64) takes one step of plain SGD on a batch of three samples with
``nn.CrossEntropyLoss`` (the mean over the batch). glassnet converts it
(:func:`glassnet.interop.from_torch`), solves the same step as a worked
exercise (every z, a, δ, gradient and new weight, as formulas with the
numbers in them), and then the script compares each of those numbers with
what PyTorch's autograd and ``torch.optim.SGD`` computed:

* the loss;
* δ of every layer (∂E/∂z), against the ``.grad`` of each Linear's output;
* ∂E/∂W and ∂E/∂b, against each parameter's ``.grad``;
* the weights after the step, against the model after ``optimizer.step()``.

Run: ``python examples/pytorch_step.py`` (needs ``pip install 'glassnet[torch]'``).
It exits with status 1 if any number disagrees by more than 1e-12.
"""

from __future__ import annotations

import sys

import numpy as np
import torch
from torch import nn

from glassnet.interop import explain_torch_step

TOLERANCE = 1e-12


def build_model() -> nn.Sequential:
    """A 2-3-2 MLP with round weights, so the worked solution is easy to follow by hand."""
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 2), nn.Softmax(dim=-1))
    model = model.double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.5, -0.25], [0.25, 0.75], [-0.5, 0.5]]))
        model[0].bias.copy_(torch.tensor([0.1, -0.1, 0.0]))
        model[2].weight.copy_(torch.tensor([[1.0, -1.0, 0.5], [-0.5, 0.5, 1.0]]))
        model[2].bias.copy_(torch.tensor([0.0, 0.2]))
    return model


def autograd_step(model: nn.Sequential, X: np.ndarray, labels: np.ndarray, lr: float) -> dict:
    """PyTorch's own step: forward keeping each Linear's output z, backward, SGD update."""
    out = torch.from_numpy(X)
    zs = []
    for module in model[:-1]:  # CrossEntropyLoss takes the logits: everything but the Softmax
        out = module(out)
        if isinstance(module, nn.Linear):
            out.retain_grad()
            zs.append(out)
    loss = nn.CrossEntropyLoss()(out, torch.from_numpy(labels))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    optimizer.zero_grad()
    loss.backward()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    result = {
        "loss": loss.item(),
        "delta": [z.grad.numpy().copy() for z in zs],
        "grad_W": [m.weight.grad.numpy().copy() for m in linears],
        "grad_b": [m.bias.grad.numpy().copy() for m in linears],
    }
    optimizer.step()
    result["W_after"] = [m.weight.detach().numpy().copy() for m in linears]
    result["b_after"] = [m.bias.detach().numpy().copy() for m in linears]
    return result


def main() -> int:
    model = build_model()
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1])
    T = np.eye(2)[labels]  # one-hot targets: glassnet's cross_entropy takes probabilities
    lr = 0.5

    solution = explain_torch_step(model, X, T, lr=lr, loss="cross_entropy", mode="batch_mean")
    print(solution.to_text(decimals=4))

    torch_numbers = autograd_step(model, X, labels, lr)
    step = solution.updates[0]
    rows = [("loss E", np.array(step.loss), np.array(torch_numbers["loss"]))]
    for l, layer in enumerate(step.layers):
        for name in ("delta", "grad_W", "grad_b", "W_after", "b_after"):
            rows.append((f"{name} of layer {l + 1}", getattr(layer, name),
                         torch_numbers[name][l]))

    print("\nglassnet's worked step against PyTorch autograd + torch.optim.SGD "
          f"(float64, tolerance {TOLERANCE:g}):")
    failures = 0
    for what, ours, theirs in rows:
        diff = float(np.max(np.abs(np.asarray(ours) - np.asarray(theirs))))
        ok = diff <= TOLERANCE
        failures += not ok
        print(f"  {what:<20} {np.size(ours):>3} numbers   max |difference| = {diff:.1e}   "
              f"{'agree' if ok else 'DISAGREE'}")
    print("all numbers agree" if not failures else f"{failures} quantities disagree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
