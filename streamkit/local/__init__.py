"""The embedded local AWS: streamkit's own DynamoDB Streams and Lambda mapping APIs in front of moto.

:class:`LocalAWS` (:mod:`.server`) is the entry point. Inside: :mod:`.dispatcher` (which handler
answers a request), :mod:`.dynamodbstreams` (the stream store and its API), :mod:`.esm` (mappings
and the local Lambda service), :mod:`.runtime` (running functions' code), :mod:`.moto_compat` (the
only module that touches moto's internals) and :mod:`.state` (the clock and the lock).
This package imports the pure model and :mod:`streamkit.backends`, never a user-facing helper.
"""

from .server import LocalAWS

__all__ = ["LocalAWS"]
