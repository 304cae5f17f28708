"""streamkit: learn, test and price Amazon DynamoDB Streams triggers for AWS Lambda.

``streamkit.connect()`` gives the backend every helper takes: by default the embedded local AWS
(moto on loopback with streamkit's fidelity layer), real AWS only when asked for by name.

Modules, from the ground up (``docs/architecture.md`` has the layers and their rules):

* ground: :mod:`streamkit.errors` (``StreamkitError`` and its subclasses), :mod:`streamkit.limits`
  (AWS limits and defaults with their sources);
* model (no AWS calls): :mod:`streamkit.events` (typed records, DataFrames, AWS sample events),
  :mod:`streamkit.sizes` (SizeBytes), :mod:`streamkit.filters` (event filter patterns),
  :mod:`streamkit.mapping_settings` (the one spec of mapping settings), :mod:`streamkit.packaging`
  (deployment packages), :mod:`streamkit.shards` (shard lineage), :mod:`streamkit.waiting` (the
  one polling loop);
* client helpers: :mod:`streamkit.backends` (the ``Backend`` every helper takes),
  :mod:`streamkit.streams` (tables, streams, reading records), :mod:`streamkit.polling` (a
  polling consumer), :mod:`streamkit.iam` (execution roles), :mod:`streamkit.functions`
  (deploying functions), :mod:`streamkit.triggers` (event source mappings),
  :mod:`streamkit.destinations` (on-failure destinations), :mod:`streamkit.logs` (events and
  lines read back from a function's logs), :mod:`streamkit.teardown` (deleting what a run made,
  and the ``streamkit teardown`` command), and what they share: :mod:`streamkit.ownership` (the
  run tag), :mod:`streamkit.aws_errors` (error codes), :mod:`streamkit.checks` (argument checks);
  :mod:`streamkit.pricing` (the cost model);
* the embedded backend: :mod:`streamkit.local`;
* entry: :mod:`streamkit.connection` (``connect()``), ``python -m streamkit``.
"""

from .backends import Backend
from .connection import connect
from .errors import StreamkitError
from .events import EventName, StreamRecord, StreamViewType, load_sample_event, parse_records

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "EventName",
    "StreamRecord",
    "StreamViewType",
    "StreamkitError",
    "__version__",
    "connect",
    "load_sample_event",
    "parse_records",
]
