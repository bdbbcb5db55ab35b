"""What running one step came to; the runner turns it into the execution's next state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Done:
    output: Any


@dataclass(slots=True)
class Wait:
    """Hold no worker until `until` (a delay), or until an approval is decided (re-checked at `until`)."""

    until: datetime
    action_id: str | None = None


@dataclass(slots=True)
class Failed:
    """The step failed; `retryable` failures are tried again under the step's retry policy."""

    error: str
    retryable: bool
    retry_after: float | None = None


Outcome = Done | Wait | Failed
