"""Check the records the test guest (tools/build-guest-image.sh) wrote.

The guest writes record n (n = 1, 2, 3, ...) to 4 KiB block ``n % 1024`` of
its disk: ``SEQ n\\n`` followed by zeros.  It prints ``ACK n`` on the serial
console only after the write returned (O_DIRECT + fsync), and ``FAIL n`` if
the write failed.  An ACKed record is a promise: whatever happens to the
volume (migration, cancel, crash), the volume the instance ends up on must
hold, in each block, the newest ACKed record for that block, or a newer
record for the same block that was written but not (yet) acknowledged.

Dependency-free on purpose: used by unit and functional tests alike.
"""

import re
from typing import NamedTuple

BLOCK_SIZE = 4096
BLOCKS = 1024
READY_LINE = "VOLMIG-GUEST READY"

# Whole lines only; the serial console ends lines with "\r\n".
_LINE_RE = re.compile(r"^(ACK|FAIL) (\d+)\r?$", re.MULTILINE)
_RECORD_RE = re.compile(rb"SEQ (\d+)\n")


class ConsoleLog(NamedTuple):
    """What the console says; unpacks as ``(acked, unacked)``."""

    # block -> highest n ACKed for that block
    acked: dict[int, int]
    # n printed as FAIL, or missing between ACKs (never acknowledged)
    unacked: set[int]

    @property
    def max_ack(self) -> int:
        return max(self.acked.values(), default=0)


def _complete_lines(text: str) -> str:
    # A trailing line without newline may still be being written: ignore it.
    return text[: text.rfind("\n") + 1]


def parse_console(text: str) -> ConsoleLog:
    """Parse console output into ACKed blocks and never-ACKed numbers.

    ``unacked`` holds every n printed as FAIL plus every n below the highest
    number seen that was neither ACKed nor FAILed (its line got lost or
    garbled, so it cannot count as a promise).  Any n above the highest
    number seen is in flight too; ``verify_volume`` accounts for that.
    """
    acks: set[int] = set()
    fails: set[int] = set()
    for kind, num in _LINE_RE.findall(_complete_lines(text)):
        (acks if kind == "ACK" else fails).add(int(num))
    acked: dict[int, int] = {}
    for n in acks:
        block = n % BLOCKS
        if n > acked.get(block, 0):
            acked[block] = n
    highest = max(acks | fails, default=0)
    unacked = (set(range(1, highest + 1)) - acks) | fails
    return ConsoleLog(acked, unacked)


def count_acks(text: str) -> int:
    """Number of distinct ACK lines in the console output."""
    return len({num for kind, num in _LINE_RE.findall(_complete_lines(text))
                if kind == "ACK"})


def read_block(path: str, block: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(block * BLOCK_SIZE)
        return f.read(BLOCK_SIZE)


def verify_volume(path: str, console_text: str) -> list[str]:
    """Return the problems found; an empty list means no ACKed write was lost.

    For every block with an ACKed record the block must hold ``SEQ m\\n``
    (then zeros) where m is that block's highest ACKed n, or a later n for
    the same block that was written but not acknowledged (FAIL, missing
    from the console, or above the highest ACK).
    """
    log = parse_console(console_text)
    max_ack = log.max_ack
    problems: list[str] = []
    for block in sorted(log.acked):
        want = log.acked[block]
        data = read_block(path, block)
        if len(data) < BLOCK_SIZE:
            problems.append(
                f"block {block}: volume too short ({len(data)} bytes), "
                f"ACKed record SEQ {want} lost")
            continue
        match = _RECORD_RE.match(data)
        if not match:
            head = data[:16].rstrip(b"\0")
            problems.append(
                f"block {block}: no record (starts {head!r}), "
                f"ACKed record SEQ {want} lost")
            continue
        got = int(match.group(1))
        if any(data[match.end():]):
            problems.append(f"block {block}: SEQ {got} not zero-padded")
        if got == want:
            continue
        if got % BLOCKS != block:
            problems.append(
                f"block {block}: holds SEQ {got}, which belongs to block "
                f"{got % BLOCKS}; expected SEQ {want}")
        elif got < want:
            problems.append(
                f"block {block}: stale SEQ {got}, ACKed SEQ {want} lost")
        elif not (got > max_ack or got in log.unacked):
            # Cannot happen for a consistent log (got > want means got was
            # not ACKed), kept so the rule stays explicit.
            problems.append(
                f"block {block}: SEQ {got} is newer than ACKed SEQ {want} "
                f"but was never written")
    return problems


def last_boot(text: str) -> str:
    """The console of the guest's latest boot (the log spans boots)."""
    start = text.rfind(READY_LINE)
    return text if start < 0 else text[start:]
