"""Delivery policy as data: which events a webhook wants, when to try again, when to give up.

Pure functions, so the schedule can be tested without a clock or a network.
"""

from __future__ import annotations

import fnmatch
import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from app.core.clock import utcnow

# Standard Webhooks guidance: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about a day).
DEFAULT_SCHEDULE_SECONDS = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_DELAY_SECONDS = 24 * 3600
JITTER = 0.2


def wants(patterns: list[str], event_type: str) -> bool:
    """True when a name or glob (`action.*`, `*`) in `patterns` covers `event_type`."""
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in patterns)


def max_attempts(configured: int | None) -> int:
    return configured if configured is not None else len(DEFAULT_SCHEDULE_SECONDS)


def retry_delay(attempts_made: int, backoff_ms: int | None) -> float:
    """Seconds to wait after `attempts_made` failed attempts: doubling from `backoff_ms` when the
    webhook has a retry policy, else the default schedule; both with +-20% jitter."""
    if backoff_ms is not None:
        base = backoff_ms / 1000 * 2 ** (attempts_made - 1)
    else:
        index = min(attempts_made, len(DEFAULT_SCHEDULE_SECONDS) - 1)
        base = DEFAULT_SCHEDULE_SECONDS[index]
    return min(MAX_DELAY_SECONDS, base * random.uniform(1 - JITTER, 1 + JITTER))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The wait a 429/503 asked for: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit alone takes "²", which float() refuses
        return min(float(value), MAX_DELAY_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(0.0, (when - (now or utcnow())).total_seconds()), MAX_DELAY_SECONDS)


def next_attempt_at(attempts_made: int, backoff_ms: int | None, asked: float | None) -> datetime:
    """When to try again: the backoff, but never sooner than a Retry-After asked."""
    delay = retry_delay(attempts_made, backoff_ms)
    if asked is not None:
        delay = max(delay, asked)
    return utcnow() + timedelta(seconds=delay)
