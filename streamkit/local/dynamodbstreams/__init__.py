"""DynamoDB Streams on the embedded backend: the stream store (:mod:`.models`), the capture of
writes into it (:mod:`.capture`) and the Streams API answered from it (:mod:`.responses`)."""
