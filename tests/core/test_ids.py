"""Ids: the documented shape, every base62 character reachable, no bias towards the low ones."""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest

from app.core.ids import new_id, random_base62


def test_new_id_has_prefix_and_22_base62_characters() -> None:
    assert re.fullmatch(r"act_[0-9A-Za-z]{22}", new_id("act"))


def test_unknown_prefix_is_refused() -> None:
    with pytest.raises(ValueError):
        new_id("nope")


def test_random_base62_is_spread_evenly_over_the_alphabet() -> None:
    counts = Counter("".join(random_base62(50) for _ in range(4000)))  # 200,000 characters
    assert len(counts) == 62
    expected = 200_000 / 62
    # a mapping by `b % 62` over all 256 byte values would make 0-7 about 25% more frequent
    assert max(counts.values()) < expected * 1.08 and min(counts.values()) > expected * 0.92


@pytest.mark.parametrize("length", [1, 20, 22, 64, 300])
def test_random_base62_returns_the_length_asked(length: int) -> None:
    assert len(random_base62(length)) == length


def test_a_forked_child_never_repeats_its_parents_ids() -> None:
    """Random bytes are read ahead in a pool: a child must not inherit the unread part."""
    new_id("act")  # the pool is filled now
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(writer, new_id("act").encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    child = os.read(reader, 64).decode()
    os.close(reader)
    assert child.startswith("act_") and child != new_id("act")
