"""glassnet: multilayer perceptrons trained by backpropagation, with every number visible.

One engine serves two jobs: training real networks fast (float32, mini-batches)
and showing the work on a textbook exercise (float64, every z, a, δ, gradient
and updated weight). See the README for the conventions.

>>> from glassnet import Network, SGD
>>> net = Network([2, 3, 1], "sigmoid", "half_sse", weights=1.0, biases=1.0)
>>> round(net.train_step([[1, 0]], [[1]], SGD(lr=0.1)), 9)
0.000325667
"""

from ._version import __version__
from .activations import Activation, get_activation
from .errors import GlassnetError, NonFiniteError, ShapeError, UnknownNameError
from .gradcheck import GradCheckReport, gradient_check
from .initializers import Initializer, get_initializer
from .losses import Loss, get_loss
from .network import Dense, Network
from .optimizers import SGD, Adam, Optimizer, get_optimizer
from .trace import LayerTrace, Trace, Update, run_updates

__all__ = [
    "__version__",
    "Activation", "get_activation",
    "GlassnetError", "NonFiniteError", "ShapeError", "UnknownNameError",
    "GradCheckReport", "gradient_check",
    "Initializer", "get_initializer",
    "Loss", "get_loss",
    "Dense", "Network",
    "SGD", "Adam", "Optimizer", "get_optimizer",
    "LayerTrace", "Trace", "Update", "run_updates",
]
