"""File-descriptor budget: the broker refuses partitions it could not open instead of breaking.

Every partition log keeps one descriptor open per segment (its indexes are mmap'd and their
descriptors closed), every connection one. When the process runs out (EMFILE), a new partition's
files, new connections and the next start-up all fail: issue 13 saw every new connection reset
after 19,814 partition dirs and a broker that would not start again. So:

- at start-up the soft RLIMIT_NOFILE is raised to the hard limit (`raise_nofile_limit`; the JVM
  does the same for Kafka, -XX:+MaxFDLimit);
- CreateTopics/CreatePartitions placing N new replicas on this node are refused with
  POLICY_VIOLATION when the descriptors in use, those promised to logs still being created, N
  and a reserve for connections (an eighth of the limit, at least 64) would exceed the soft
  limit (`FdBudget.refusal`); the message names RLIMIT_NOFILE and `ulimit -n`;
- a broker that hits EMFILE opening its logs at start-up exits with a CRITICAL line naming the
  limit to raise (`emfile_hint`, used by `__main__`).

Kafka 4.4 has no such check (it creates the partitions and fails later). Invariants: the counts
are read from /proc/self/fd when asked (a count is reused for 50 ms, no other state is kept);
without /proc nothing is refused.
"""
from __future__ import annotations

import errno
import logging
import os
import resource
import time
from collections.abc import Callable

log = logging.getLogger("fastkafka.fd_budget")

# How long a count of the descriptors in use is reused (see FdBudget.refusal).
_COUNT_REUSE_SECONDS = 0.05


def raise_nofile_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns the (soft, hard) now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as e:
            log.warning("Could not raise the soft RLIMIT_NOFILE from %d to %d: %s", soft, hard, e)
    return soft, hard


def fds_in_use() -> int | None:
    """Open descriptors of this process. Linux 6.2+ reports the count as the size of
    /proc/self/fd (one stat, microseconds); listing the directory instead takes ~70 ms per 15,000
    descriptors, on the event loop inside every CreateTopics (seconds of stalls at 10,000 topics)."""
    try:
        n = os.stat("/proc/self/fd").st_size
        return n if n > 0 else len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


class FdBudget:
    def __init__(self, pending_fds: Callable[[], int] = lambda: 0) -> None:
        # Descriptors promised to logs being created in the background (not open yet).
        self._pending_fds = pending_fds
        # The last count of descriptors in use and when it was taken: a CreateTopics of 1,000
        # topics asks once per topic (the controller adds the request's own new replicas).
        self._counted: int | None = None
        self._counted_at = float("-inf")

    @staticmethod
    def reserve(limit: int) -> int:
        return max(64, limit // 8)

    def refusal(self, new_replicas: int, node_id: int) -> str | None:
        """None if `new_replicas` more partition logs fit; else the POLICY_VIOLATION message."""
        if new_replicas <= 0:
            return None
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return None
        now = time.monotonic()
        if now - self._counted_at > _COUNT_REUSE_SECONDS:
            self._counted, self._counted_at = fds_in_use(), now
        used = self._counted
        if used is None:
            return None
        used += self._pending_fds()
        reserve = self.reserve(soft)
        if used + new_replicas + reserve <= soft:
            return None
        return (f"Creating {new_replicas} partition(s) on broker {node_id} would exceed its file descriptor "
                f"budget: {used} of RLIMIT_NOFILE {soft} in use, {reserve} kept for connections, one needed "
                f"per partition. Raise the open files limit of the broker (ulimit -n, LimitNOFILE) or create "
                f"fewer partitions.")


def emfile_hint(exc: BaseException) -> str | None:
    """For an exception caused (anywhere in its chain) by EMFILE/ENFILE: the line telling the
    operator which limit to raise; else None."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in (errno.EMFILE, errno.ENFILE):
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            which = "RLIMIT_NOFILE (ulimit -n; LimitNOFILE= in a systemd unit)" if e.errno == errno.EMFILE \
                else "the system-wide limit fs.file-max"
            return (f"Too many open files while opening the logs ({e}): the broker needs one file descriptor "
                    f"per log segment plus its connections; raise {which} above the current soft limit {soft} "
                    f"(hard limit {hard}) and start again.")
        e = e.__cause__ or e.__context__
    return None
