"""MetadataLoader: turns committed metadata batches into images and publishes them
(Kafka's image.loader.MetadataLoader + MetadataPublisher)."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from fastkafka.cluster.metadata.metadata_delta import MetadataDelta
from fastkafka.cluster.metadata.metadata_image import EMPTY_IMAGE, MetadataImage
from fastkafka.cluster.metadata.metadata_provenance import MetadataProvenance

log = logging.getLogger(__name__)

MetadataPublisher = Callable[[MetadataDelta, MetadataImage], None]


class CommittedBatch(NamedTuple):
    """One committed batch of the metadata log: its records (decoded, log order), the offset of
    its last record, the leader epoch it was written in and its append time."""

    records: Sequence[Any]
    last_offset: int
    epoch: int
    append_time_ms: int = -1


class MetadataLoader:
    """Owner of the current MetadataImage. Single owner: the raft listener calls handle_commit
    from the event-loop thread; publishers run synchronously, in registration order, before
    handle_commit returns, so when a controller operation's append has committed every publisher
    (ReplicaManager, coordinators) has seen it.

    Invariant: `image` only moves forward (provenance offsets strictly increase) and is replaced,
    never mutated.
    """

    def __init__(self) -> None:
        self._image = EMPTY_IMAGE
        self._publishers: list[tuple[str, MetadataPublisher]] = []

    @property
    def image(self) -> MetadataImage:
        return self._image

    def install_publishers(self, *publishers: tuple[str, MetadataPublisher]) -> None:
        """Add publishers; each is immediately given the current image if it is not empty."""
        for name, pub in publishers:
            self._publishers.append((name, pub))
            if not self._image.is_empty():
                pub(MetadataDelta(EMPTY_IMAGE), self._image)

    def remove_publisher(self, name: str) -> None:
        self._publishers = [(n, p) for n, p in self._publishers if n != name]

    def handle_commit(self, batches: Iterable[CommittedBatch]) -> MetadataImage:
        """Apply committed batches in order; one new image and one publication per batch (the
        unit the controller appends atomically), so publishers never see half an operation."""
        for batch in batches:
            if batch.last_offset <= self._image.provenance.last_contained_offset:
                continue  # already applied (replay overlapping a snapshot)
            delta = MetadataDelta(self._image)
            delta.replay_all(batch.records)
            self._publish(delta, delta.apply(MetadataProvenance(batch.last_offset, batch.epoch, batch.append_time_ms)))
        return self._image

    def prepare(self, batch: CommittedBatch) -> tuple[MetadataImage, MetadataDelta, MetadataImage]:
        """Build (base image, delta, new image) for one batch without publishing: pure (images
        are immutable), so the raft client runs it on a thread for big batches."""
        base = self._image
        delta = MetadataDelta(base)
        delta.replay_all(batch.records)
        return base, delta, delta.apply(MetadataProvenance(batch.last_offset, batch.epoch, batch.append_time_ms))

    def publish_prepared(self, batch: CommittedBatch,
                         prepared: tuple[MetadataImage, MetadataDelta, MetadataImage]) -> None:
        """Publish what `prepare` built, on the loop; rebuilt inline if the image changed since
        (a control batch meanwhile)."""
        base, delta, image = prepared
        if base is not self._image:
            self.handle_commit([batch])
            return
        if batch.last_offset <= self._image.provenance.last_contained_offset:
            return
        self._publish(delta, image)

    def handle_control_batch(self, last_offset: int, epoch: int) -> None:
        """A control batch (LeaderChange) advances the provenance without changing content."""
        if last_offset > self._image.provenance.last_contained_offset:
            img = self._image
            self._image = MetadataImage(MetadataProvenance(last_offset, epoch, img.provenance.last_contained_log_time_ms),
                                        img.features, img.cluster, img.topics, img.configs, img.producer_ids)

    def handle_load_snapshot(self, image: MetadataImage) -> None:
        """Replace the image wholesale (a snapshot load); publishers get a delta from empty."""
        delta = MetadataDelta(EMPTY_IMAGE)
        self._publish(delta, image)

    def _publish(self, delta: MetadataDelta, image: MetadataImage) -> None:
        self._image = image
        for name, pub in self._publishers:
            try:
                pub(delta, image)
            except Exception:  # one faulty publisher must not stop the others or the loader
                log.exception("metadata publisher %s failed at offset %d", name, image.offset())
