"""The embedded local AWS: moto on loopback plus streamkit's fidelity layer.

:class:`LocalAWS` is the entry point; :mod:`streamkit.local.fidelity` is the only module that touches
moto's internals.
"""

from .server import LocalAWS

__all__ = ["LocalAWS"]
