"""Errors that `gatehouse serve` and `gatehouse worker` log while the figures run.

A figure taken while the product logs errors is not one to trust, and each error is a bug to fix
whatever the figure says: a crash after commit once answered proposals 500 and left 17 executions to
wait out their 30 s lease, hidden inside the median of three rounds. The processes' logs are only
appended to (bench.procs.Service), so each step reads what its own run added.
"""

from __future__ import annotations

from pathlib import Path

from bench.procs import LOG_DIR

LOGS = ("gatehouse-serve", "gatehouse-worker")
ERROR_MARKS = (b'"level": "error"', b'"level": "critical"', b"Traceback (most recent call last)")
KEPT = 300  # characters of each error line kept for the note


def _path(name: str) -> Path:
    return LOG_DIR / f"{name}.log"


def offsets() -> dict[str, int]:
    """Where each log ends now."""
    return {name: _path(name).stat().st_size if _path(name).exists() else 0 for name in LOGS}


def errors_since(start: dict[str, int]) -> list[str]:
    """Every error line logged after `start` (offsets()), as `log: line`."""
    found: list[str] = []
    for name, offset in start.items():
        path = _path(name)
        if not path.exists():
            continue
        with path.open("rb") as log:
            log.seek(offset if path.stat().st_size >= offset else 0)
            found.extend(f"{name}: {line.decode(errors='replace').strip()[:KEPT]}" for line in log
                         if any(mark in line for mark in ERROR_MARKS))
    return found
