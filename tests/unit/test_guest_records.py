"""Unit tests for tests/functional/guest_records.py (no VM needed)."""

import os
import sys

# guest_records lives with the functional tests; import it by path so this
# works whether or not tests/ is a package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "functional"))

import guest_records  # noqa: E402
from guest_records import BLOCK_SIZE  # noqa: E402
from guest_records import BLOCKS  # noqa: E402


def record(n):
    data = b"SEQ %d\n" % n
    return data + b"\0" * (BLOCK_SIZE - len(data))


def write_records(path, numbers, size_blocks=BLOCKS):
    """Simulate the guest: write records in order onto a sparse volume."""
    with open(path, "wb") as f:
        f.truncate(size_blocks * BLOCK_SIZE)
        for n in numbers:
            f.seek((n % BLOCKS) * BLOCK_SIZE)
            f.write(record(n))


def console(acks=(), fails=(), crlf=True):
    end = "\r\n" if crlf else "\n"
    lines = ["[    0.000000] Linux version 6.1", "VOLMIG-GUEST READY"]
    lines += ["ACK %d" % n for n in acks]
    lines += ["FAIL %d" % n for n in fails]
    return end.join(lines) + end


def test_parse_console_basic():
    text = console(acks=[1, 2, 3, 1025], fails=[5])
    acked, unacked = guest_records.parse_console(text)
    assert acked == {1: 1025, 2: 2, 3: 3}
    # 5 FAILed; 4 and 6..1024 lie below the highest number seen and were
    # never ACKed (lines missing), so they are not promises either.
    assert 4 in unacked and 5 in unacked and 1000 in unacked
    assert 1025 not in unacked and 1 not in unacked
    assert guest_records.count_acks(text) == 4


def test_parse_console_ignores_partial_last_line_and_noise():
    text = "ACK 1\nrandom ACK 2 noise\nACK 3\r\nACK 4"
    log = guest_records.parse_console(text)
    assert log.acked == {1: 1, 3: 3}
    assert log.unacked == {2}
    assert log.max_ack == 3
    assert guest_records.count_acks(text) == 2


def test_correct_volume(tmp_path):
    vol = str(tmp_path / "vol.raw")
    # Wraps around: blocks 1..476 hold their second record.
    numbers = list(range(1, 1501))
    write_records(vol, numbers)
    assert guest_records.verify_volume(vol, console(acks=numbers)) == []


def test_written_but_unacked_record_is_fine(tmp_path):
    vol = str(tmp_path / "vol.raw")
    # 1..10 ACKed; 11 written, then the disk went away before ACK; 12 FAILed.
    write_records(vol, range(1, 12))
    text = console(acks=range(1, 11), fails=[12])
    assert guest_records.verify_volume(vol, text) == []


def test_newer_record_for_same_block_is_fine(tmp_path):
    vol = str(tmp_path / "vol.raw")
    # Record 1025 overwrote block 1 after ACK 1, but its ACK was not seen.
    write_records(vol, range(1, 1026))
    text = console(acks=range(1, 1025))
    assert guest_records.verify_volume(vol, text) == []


def test_lost_write_detected(tmp_path):
    vol = str(tmp_path / "vol.raw")
    numbers = list(range(1, 101))
    # Record 50 was ACKed but never reached this volume.
    write_records(vol, [n for n in numbers if n != 50])
    problems = guest_records.verify_volume(vol, console(acks=numbers))
    assert len(problems) == 1
    assert "block 50" in problems[0] and "lost" in problems[0]


def test_stale_block_detected(tmp_path):
    vol = str(tmp_path / "vol.raw")
    # Block 7 holds record 7 but record 1031 (same block) was ACKed later:
    # e.g. a migration copied the old contents after the new write.
    numbers = list(range(1, 1101))
    write_records(vol, [n for n in numbers if n != 1031])
    problems = guest_records.verify_volume(vol, console(acks=numbers))
    assert len(problems) == 1
    assert "block 7" in problems[0] and "stale SEQ 7" in problems[0]


def test_short_volume_detected(tmp_path):
    vol = str(tmp_path / "vol.raw")
    write_records(vol, range(1, 11), size_blocks=5)
    with open(vol, "r+b") as f:
        f.truncate(5 * BLOCK_SIZE)
    problems = guest_records.verify_volume(vol, console(acks=range(1, 5)))
    assert problems == []
    problems = guest_records.verify_volume(vol, console(acks=range(1, 8)))
    assert len(problems) == 3  # blocks 5, 6 and 7 lie beyond the end


def test_misplaced_and_garbled_records_detected(tmp_path):
    vol = str(tmp_path / "vol.raw")
    write_records(vol, range(1, 4))
    with open(vol, "r+b") as f:
        f.seek(2 * BLOCK_SIZE)
        f.write(record(5))          # block 2 holds a record for block 5
        f.seek(3 * BLOCK_SIZE)
        f.write(b"SEQ 3\nX")         # not zero-padded
    problems = guest_records.verify_volume(vol, console(acks=[1, 2, 3]))
    assert len(problems) == 2
    assert any("block 2" in p and "belongs to block 5" in p for p in problems)
    assert any("block 3" in p and "zero-padded" in p for p in problems)
