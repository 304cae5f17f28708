"""streamkit: learn, test and price Amazon DynamoDB Streams triggers for AWS Lambda.

``streamkit.connect()`` gives the backend every helper takes: by default the embedded local AWS
(moto on loopback with streamkit's fidelity layer), real AWS only when asked for by name.

Modules: :mod:`streamkit.streams` (tables, streams, reading records), :mod:`streamkit.triggers`
(roles, functions, event source mappings, teardown), :mod:`streamkit.polling` (a polling consumer),
:mod:`streamkit.events` (typed records, DataFrames, events read back from logs, AWS sample
events), :mod:`streamkit.sizes` (SizeBytes),
:mod:`streamkit.pricing` (the cost model), :mod:`streamkit.limits` (AWS limits with sources),
:mod:`streamkit.errors`, :mod:`streamkit.local` (the embedded backend).
"""

from .backends import Backend, connect
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
