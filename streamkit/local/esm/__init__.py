"""Event source mappings on DynamoDB streams, run by the embedded backend's local Lambda service.

:mod:`.models` (mappings and their states), :mod:`.responses` (the Lambda mapping API),
:mod:`.service` (the service loop and ``settle``), :mod:`.poller` (reading and batching each
shard), :mod:`.processor` (checkpoints, retries, bisecting, discards, failure records).
"""
