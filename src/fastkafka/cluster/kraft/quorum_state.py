"""FileQuorumState: the `quorum-state` file in `__cluster_metadata-0/` (Kafka's raft.FileQuorumState).

Kafka's JSON (QuorumStateData via its JSON converter plus "data_version"). Version 0, used with
static voters (kraft.version 0, controller.quorum.voters):
    {"clusterId":"","leaderId":1,"leaderEpoch":3,"votedId":-1,"appliedOffset":0,
     "currentVoters":[{"voterId":1}],"data_version":0}
Version 1 (kraft.version 1): {"leaderId":1,"leaderEpoch":3,"votedId":-1,
     "votedDirectoryId":"AAAAAAAAAAAAAAAAAAAAAA","data_version":1}
"""
from __future__ import annotations

import base64
import dataclasses
import json
import os

from fastkafka.protocol.errors import Errors, KafkaError
from fastkafka.storage.checkpoint_file import atomic_write

QUORUM_STATE_FILE = "quorum-state"


@dataclasses.dataclass(frozen=True, slots=True)
class ElectionState:
    """What a voter must remember across restarts: the highest epoch it has seen, who led it and
    whom it voted for in it. Invariant: a voter never votes twice, nor leads twice, in one epoch."""

    epoch: int
    leader_id: int = -1
    voted_id: int = -1
    voters: tuple[int, ...] = ()
    voted_directory_id: bytes = bytes(16)


def _uuid_str(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def _uuid_bytes(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "==")


class FileQuorumState:
    """Single writer: the RaftClient. Writes are atomic (tmp + fsync + rename + fsync dir)."""

    def __init__(self, dir_path: str) -> None:
        self.path = os.path.join(dir_path, QUORUM_STATE_FILE)

    def read(self) -> ElectionState | None:
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Error while reading the Quorum status from the file {self.path}: {e}") from e
        try:
            version = int(data.get("data_version", 0))
            voters = tuple(int(v["voterId"]) for v in (data.get("currentVoters") or ()))
            vdir = _uuid_bytes(data["votedDirectoryId"]) if version >= 1 and "votedDirectoryId" in data else bytes(16)
            return ElectionState(epoch=int(data["leaderEpoch"]), leader_id=int(data.get("leaderId", -1)),
                                 voted_id=int(data.get("votedId", -1)), voters=voters, voted_directory_id=vdir)
        except (KeyError, TypeError, ValueError) as e:
            raise KafkaError(Errors.KAFKA_STORAGE_ERROR, f"Malformed quorum state file {self.path}: {e}") from e

    def write(self, state: ElectionState, version: int = 0) -> None:
        if version == 0:
            data: dict[str, object] = {
                "clusterId": "", "leaderId": state.leader_id, "leaderEpoch": state.epoch, "votedId": state.voted_id,
                "appliedOffset": 0, "currentVoters": [{"voterId": v} for v in state.voters], "data_version": 0}
        else:
            data = {"leaderId": state.leader_id, "leaderEpoch": state.epoch, "votedId": state.voted_id,
                    "votedDirectoryId": _uuid_str(state.voted_directory_id), "data_version": 1}
        atomic_write(self.path, json.dumps(data, separators=(",", ":")).encode())
