"""The one exception type of the data layer.

Every problem with a data file, a download, a class list or an input file
raises :class:`DataError`. It is a :class:`~glassnet.errors.GlassnetError`,
so the command line prints it as one ``glassnet: error: ...`` line and exits
with status 2 instead of showing a traceback.

>>> from glassnet.errors import GlassnetError
>>> issubclass(DataError, GlassnetError)
True
"""

from __future__ import annotations

from ..errors import GlassnetError

__all__ = ["DataError"]


class DataError(GlassnetError):
    """A data file, download, class list or input file is missing, corrupt or not as expected."""
