"""Worker job: the workflow runner. Claims due executions, runs each as its own task, renews the
leases it holds, and interrupts a task at once when its execution is cancelled or taken over."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from app.core.waiting import first_of
from app.logs import get_logger
from app.workers import register
from resolvers.context import Services
from resolvers.workflows import hints, sink  # noqa: F401  (registers the relay sink: triggers, approval wake-ups)
from resolvers.workflows.executions import CANCEL_CHANNEL, WAKE_CHANNEL
from resolvers.workflows.hints import StartHint
from resolvers.workflows.leases import Claim, claim_due, release, renew
from resolvers.workflows.runner import run_claimed, run_hinted

POLL_SECONDS = 0.5  # delays and retries fall due without a wake: look this often
_log = get_logger("gatehouse.workflows")


class Runner:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.tasks: dict[str, tuple[asyncio.Task[None], Claim]] = {}
        self.wake = asyncio.Event()
        # new executions named by their wakes (hints.py), oldest dropped first: the poll claims those
        self.hints: deque[StartHint] = deque(maxlen=4 * services.settings.workflow_concurrency)
        self.hinting: set[str] = set()  # executions whose claim from a hint is in flight: the poll leaves them

    def heard(self, message: bytes) -> None:
        """A wake: plain (work is due) or naming a new execution, which is claimed from its hint."""
        hint = hints.decode(message)
        if hint is not None and not self.services.settings.is_sqlite:
            self.hints.append(hint)
        self.wake.set()

    def interrupt(self, execution_id: str) -> None:
        held = self.tasks.get(execution_id)
        if held is not None:
            held[0].cancel()

    def start(self, claim: Claim) -> None:
        task = asyncio.create_task(self.guarded(claim))
        self.tasks[claim.execution_id] = (task, claim)
        task.add_done_callback(lambda _t: self.finished(claim))

    def finished(self, claim: Claim) -> None:
        held = self.tasks.get(claim.execution_id)
        if held is not None and held[1] == claim:
            del self.tasks[claim.execution_id]
        self.wake.set()  # a slot is free

    def start_hinted(self, hint: StartHint) -> None:
        claim = Claim(hint.execution_id, hint.lease + 1)  # the lease its claim will hold, if it wins
        task = asyncio.create_task(self.guarded(claim, hint))
        self.tasks[claim.execution_id] = (task, claim)
        self.hinting.add(claim.execution_id)

        def done(_t: asyncio.Task[None]) -> None:
            self.hinting.discard(claim.execution_id)
            self.finished(claim)

        task.add_done_callback(done)

    async def guarded(self, claim: Claim, hint: StartHint | None = None) -> None:
        try:
            if hint is not None:
                await run_hinted(self.services, hint)
            else:
                await run_claimed(self.services, claim)
        except asyncio.CancelledError:
            _log.info("execution interrupted", execution_id=claim.execution_id)
        except Exception:
            _log.exception("execution pass crashed; it is taken over after its lease", execution_id=claim.execution_id)

    async def keep_leases(self, stop: asyncio.Event) -> None:
        """Renew every held lease a third of the way through it; stop the work of any lost one."""
        every = self.services.settings.workflow_lease_seconds / 3
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            try:
                for execution_id in await renew(self.services, [claim for _, claim in self.tasks.values()]):
                    self.interrupt(execution_id)
            except Exception:
                _log.exception("lease renewal failed")

    async def run(self, stop: asyncio.Event) -> None:
        limit = self.services.settings.workflow_concurrency
        while not stop.is_set():
            self.wake.clear()
            while self.hints and len(self.tasks) < limit:
                hint = self.hints.popleft()
                if hint.execution_id not in self.tasks:
                    self.start_hinted(hint)
            free = limit - len(self.tasks)
            claims = await claim_due(self.services, free, list(self.hinting)) if free > 0 else []
            for claim in claims:
                if claim.execution_id in self.tasks:  # its last pass is still ending here: due again at once
                    await release(claim)
                else:
                    self.start(claim)
            if claims and len(claims) == free:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(first_of(self.wake, stop), POLL_SECONDS)

    async def shutdown(self) -> None:
        for task, _ in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*(task for task, _ in list(self.tasks.values())), return_exceptions=True)



@register("workflow-runner")
async def workflow_runner(services: Services, stop: asyncio.Event) -> None:
    runner = Runner(services)
    wake = await services.bus.subscribe(WAKE_CHANNEL, lambda _c, message: runner.heard(message))
    cancel = await services.bus.subscribe(CANCEL_CHANNEL, lambda _c, m: runner.interrupt(m.decode()))
    keeper = asyncio.create_task(runner.keep_leases(stop))
    try:
        await runner.run(stop)
    finally:
        keeper.cancel()
        await runner.shutdown()
        await wake.close()
        await cancel.close()
