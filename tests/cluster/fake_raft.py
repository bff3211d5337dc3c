"""An in-memory MetadataLogWriter: assigns offsets and commits straight into a MetadataLoader."""
from fastkafka.cluster.metadata.metadata_loader import CommittedBatch, MetadataLoader


class InMemoryRaft:
    def __init__(self, loader: MetadataLoader) -> None:
        self.loader = loader
        self.leo = 0
        self.batches = []

    @property
    def image(self):
        return self.loader.image

    def next_offset(self) -> int:
        return self.leo

    async def append(self, records):
        msgs = [r.message for r in records]
        self.leo += len(msgs)
        self.batches.append(list(records))
        self.loader.handle_commit([CommittedBatch(msgs, self.leo - 1, 1)])
        return self.leo - 1
