"""Find the rules whose name patterns could match a value without trying every pattern.

A glob's literal start (the characters before its first wildcard: `delete_` in `delete_*`) is a
prefix every match has; failing that, its literal end (`.prod` in `*.prod`) is a suffix every match
has. A pattern is filed under its exact name, its longest literal prefix, or its literal suffix,
whichever says most; a value then looks up its own prefixes and suffixes of the lengths filed (a
few dict lookups, however many patterns there are). What comes back is a superset: the caller still
checks each candidate's conditions, so the decision is exactly the unindexed one. Patterns with no
literal start or end (`*`, `*x*`) cannot be filed: their rules are always candidates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from resolvers.governance.matching import GLOB_CHARS

T = TypeVar("T")
_SUFFIX_STOPS = GLOB_CHARS | {"]"}  # after a bracket class's `]` the rest is literal


def literal_prefix(pattern: str) -> str:
    for position, char in enumerate(pattern):
        if char in GLOB_CHARS:
            return pattern[:position]
    return pattern


def literal_suffix(pattern: str) -> str:
    for position in range(len(pattern) - 1, -1, -1):
        if pattern[position] in _SUFFIX_STOPS:
            return pattern[position + 1:]
    return pattern


class PatternIndex(Generic[T]):
    """Items filed under the name patterns (exact names and globs) that must match for them to apply."""

    __slots__ = ("_exact", "_prefix_lengths", "_prefixes", "_suffix_lengths", "_suffixes")

    def __init__(self) -> None:
        self._exact: dict[str, list[T]] = {}
        self._prefixes: dict[str, list[T]] = {}
        self._suffixes: dict[str, list[T]] = {}
        self._prefix_lengths: list[int] = []
        self._suffix_lengths: list[int] = []

    @staticmethod
    def can_file(patterns: Iterable[str]) -> bool:
        """Whether every pattern has something literal to be filed under."""
        return all(not _is_glob(p) or literal_prefix(p) or literal_suffix(p) for p in patterns)

    def add(self, patterns: Iterable[str], item: T) -> None:
        """File `item` under each pattern (any one of which may match); `can_file` must hold."""
        for pattern in dict.fromkeys(patterns):
            if not _is_glob(pattern):
                self._exact.setdefault(pattern, []).append(item)
                continue
            prefix, suffix = literal_prefix(pattern), literal_suffix(pattern)
            if len(prefix) >= len(suffix):
                _file(self._prefixes, self._prefix_lengths, prefix, item)
            else:
                _file(self._suffixes, self._suffix_lengths, suffix, item)

    def candidates(self, value: str | None) -> list[T]:
        """Every item with a pattern that may match `value` (an item may come back more than once)."""
        if value is None:
            return []
        found = list(self._exact.get(value, ()))
        size = len(value)
        for length in self._prefix_lengths:
            if length > size:
                break
            found.extend(self._prefixes.get(value[:length], ()))
        for length in self._suffix_lengths:
            if length > size:
                break
            found.extend(self._suffixes.get(value[size - length:], ()))
        return found


def _is_glob(pattern: str) -> bool:
    return any(char in GLOB_CHARS for char in pattern)


def _file(buckets: dict[str, list[T]], lengths: list[int], key: str, item: T) -> None:
    if key not in buckets:
        buckets[key] = []
        if len(key) not in lengths:
            lengths.append(len(key))
            lengths.sort()
    buckets[key].append(item)
