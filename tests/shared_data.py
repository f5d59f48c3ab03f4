"""Where the tests find the real MNIST / Fashion-MNIST files (never copied into the repo).

``$GLASSNET_SHARED_DATA`` if set, else ``../shared/data`` beside the repository.
Tests that need the files skip, with this path in the reason, when they are absent.
"""

from __future__ import annotations

import os
from pathlib import Path


def shared_data_dir() -> Path:
    env = os.environ.get("GLASSNET_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


SHARED = shared_data_dir()
