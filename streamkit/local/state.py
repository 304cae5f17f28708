"""What every part of the embedded backend shares: its clock and the lock over its state.

* :func:`now` is the clock of the embedded streams and mappings, in epoch seconds. Always call it
  as ``state.now()``: tests replace it to travel in time (past retention, iterator expiry).
* :data:`LOCK` serialises every change to the emulator's state (the moto tables, the stream
  stores, the mapping stores) across the server's request threads and the local Lambda service.
  Hold it for short, bounded sections only: never across an invocation or a network call.
* :data:`ACCOUNT_ID` is the one account of the embedded backend (moto's default; never a real one).
* :func:`credentials` are the running backend's own random credentials: the only ones its server
  accepts, handed to its clients, to the local Lambda service and to functions as their role's.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .auth import Credentials

__all__ = ["ACCOUNT_ID", "LOCK", "credentials", "now", "set_credentials"]

#: The account id of the embedded backend (moto's default; never a real account).
ACCOUNT_ID = "123456789012"

#: Serialises writes, stream reads and mapping changes (re-entrant: a write may read).
LOCK = threading.RLock()


def now() -> float:
    """The clock of the embedded backend, in epoch seconds (tests replace it to travel in time)."""
    return time.time()


_CREDENTIALS: Credentials | None = None


def set_credentials(value: Credentials) -> None:
    """Make ``value`` the credentials of the running backend (called by ``LocalAWS.start``)."""
    global _CREDENTIALS
    _CREDENTIALS = value


def credentials() -> Credentials:
    """The running backend's credentials (minted on first use when no backend set them)."""
    global _CREDENTIALS
    if _CREDENTIALS is None:
        from .auth import new_credentials

        _CREDENTIALS = new_credentials()
    return _CREDENTIALS
