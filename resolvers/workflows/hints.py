"""Start hints: the runner's wake-up for a new execution carries what its first step needs.

A fresh execution's wake names it, with its workflow, version, organization and (small) input, so a
runner renders the first step at once and claims the execution and starts that step in one
statement (checkpoints_pg.claim_and_start), instead of claiming due work, then starting the step:
one round trip and one commit fewer between `POST .../execute` and the call (figure 7's overhead
per step). A hint is only a shortcut: every runner that hears it may try, the fenced claim lets one
win, and an execution whose hint was lost, too big or refused is claimed by the usual poll.

On PostgreSQL the hint travels by NOTIFY, sent by the very statement that writes the execution
(executions.py) and heard on the runner's own LISTEN connection (app/workers/workflows.py), which
also makes the claim: no publish after the commit, no hop through Redis, and a database process
that is awake already. `workflow_wake = bus` (a pooler that cannot LISTEN) and the embedded mode
keep the bus: the same hint, published after the commit (`encode`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from models.workflows import Execution

PLAIN_WAKE = b"1"
CANCEL_PREFIX = "cancel:"  # a cancelled execution's notice on the same channel: its runner stops its call
MAX_HINTED_INPUT_BYTES = 4096  # bigger inputs are read by the usual claim: every runner hears each hint


@dataclass(frozen=True, slots=True)
class StartHint:
    execution_id: str
    organization_id: str
    workflow_id: str
    version_id: int
    lease: int
    input: Any


def encode(execution: Execution | None) -> bytes:
    """The wake message: a hint for a fresh execution with a small input, else a plain wake."""
    if execution is None or execution.started_at is not None or execution.retry_of is not None:
        return PLAIN_WAKE
    given = orjson.dumps(execution.input)
    if len(given) > MAX_HINTED_INPUT_BYTES:
        return PLAIN_WAKE
    return b'{"e":%s,"o":%s,"w":%s,"v":%d,"l":%d,"i":%s}' % (
        orjson.dumps(execution.id), orjson.dumps(execution.organization_id), orjson.dumps(execution.workflow_id),
        execution.version_id, execution.lease, given)


def decode(message: bytes) -> StartHint | None:
    """The hint in a wake message, or None for a plain wake (or anything unreadable)."""
    if message == PLAIN_WAKE:
        return None
    try:
        raw = orjson.loads(message)
        return StartHint(str(raw["e"]), str(raw["o"]), str(raw["w"]), int(raw["v"]), int(raw["l"]), raw["i"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def cancel_notice(execution_id: str) -> str:
    """The NOTIFY payload that tells every runner to interrupt `execution_id`'s running pass."""
    return CANCEL_PREFIX + execution_id


def cancelled_in(message: bytes) -> str | None:
    """The execution a cancel notice names, or None for any other wake."""
    text = message.decode(errors="replace")
    return text.removeprefix(CANCEL_PREFIX) if text.startswith(CANCEL_PREFIX) else None
