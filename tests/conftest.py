"""Test-suite settings.

Under CI (``CI`` set, as the CI runner does) hypothesis runs derandomized: the
same examples on every run, so a red CI always means a reproducible failure
(locally it keeps exploring new examples, which is where new bugs are found).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
