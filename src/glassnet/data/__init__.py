"""Data for training and prediction: MNIST-style IDX files, scikit-learn's digits, inputs.

One call gives a network-ready split::

    >>> from glassnet.data import load_dataset
    >>> ds = load_dataset("digits", "train", classes=[5, 6])   # no download needed
    >>> ds.X.dtype, ds.X.shape, sorted(set(ds.y.tolist())), ds.class_names
    (dtype('float32'), (272, 64), [0, 1], ['5', '6'])

``load_dataset("mnist")`` and ``load_dataset("fashion-mnist")`` look for the
IDX files in ``data_dir``, then ``$GLASSNET_DATA/<name>``, then the user cache,
and otherwise download them (SHA-256 checked) into the cache. See
``docs/data.md``.

Modules: :mod:`~glassnet.data.idx` (the IDX reader), :mod:`~glassnet.data.sources`
(finding, verifying, downloading), :mod:`~glassnet.data.datasets` (the named
datasets), :mod:`~glassnet.data.preprocess` (class selection, stratified split,
one-hot), :mod:`~glassnet.data.inputs` (files given to ``glassnet predict``).
Importing this package loads only NumPy; scikit-learn, tqdm, urllib's HTTP
client and matplotlib are imported when first needed.
"""

from .datasets import CLASS_NAMES, DATASETS, Dataset, load_dataset
from .errors import DataError
from .idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, write_idx
from .inputs import load_image, load_inputs
from .preprocess import one_hot, select_classes, stratified_split
from .sources import cache_dir, locate_files

__all__ = [
    "CLASS_NAMES", "DATASETS", "Dataset", "load_dataset",
    "DataError",
    "IMAGES_MAGIC", "LABELS_MAGIC", "read_idx", "write_idx",
    "load_image", "load_inputs",
    "one_hot", "select_classes", "stratified_split",
    "cache_dir", "locate_files",
]
