"""Worker job: the workflow runner. Claims due executions, runs each as its own task, renews the
leases it holds, and interrupts a task at once when its execution is cancelled or taken over."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterator

from app.core.outages import is_outage
from app.core.waiting import first_of
from app.logs import get_logger
from app.workers import register
from models.db import OwnConnection, pg_listen
from resolvers.context import Services
from resolvers.workflows import hints, sink  # noqa: F401  (registers the relay sink: triggers, approval wake-ups)
from resolvers.workflows.cancelling import CANCEL_CHANNEL, NOTIFY_CHANNEL
from resolvers.workflows.executions import WAKE_CHANNEL
from resolvers.workflows.hints import StartHint
from resolvers.workflows.leases import Claim, claim_due, release, renew
from resolvers.workflows.runner import run_claimed, run_hinted

POLL_SECONDS = 0.5  # delays and retries fall due without a wake: look this often
LISTEN_RETRY_SECONDS = 0.5  # a lost wake listener's first reconnection waits this, doubling up to 5 s
_log = get_logger("gatehouse.workflows")


class Runner:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.tasks: dict[str, tuple[asyncio.Task[bool], Claim]] = {}
        self.wake = asyncio.Event()
        self.due = True  # the poll's claim runs on the next turn (a hint alone does not ask for it)
        # new executions named by their wakes (hints.py) while no slot was free, oldest dropped first
        self.hints: deque[StartHint] = deque(maxlen=4 * services.settings.workflow_concurrency)
        # executions whose claim from a hint is in flight: the poll leaves them, and their leases are
        # not renewed until the claim is known (renewing first would find the old fence: "lost")
        self.hinting: set[str] = set()
        self.own: OwnConnection | None = None  # the NOTIFY listener's connection: hinted claims run on it
        self.outage = False  # the runner's own last query found PostgreSQL away (logged once)

    def heard(self, message: bytes) -> None:
        """A wake: plain (work is due: the poll claims it) or naming a new execution, whose claim
        from its hint starts at once when a slot is free (no poll beside it, no turn of the loop)."""
        cancelled = hints.cancelled_in(message)
        if cancelled is not None:
            self.interrupt(cancelled)
            return
        hint = hints.decode(message)
        if hint is None or self.services.settings.is_sqlite:
            self.due = True
        elif hint.execution_id in self.tasks:
            return
        elif len(self.tasks) < self.services.settings.workflow_concurrency:
            self.start_hinted(hint)
            return
        else:
            if len(self.hints) == self.hints.maxlen:
                self.due = True  # the oldest hint is dropped: its execution waits for the poll
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

    def finished(self, claim: Claim, poll: bool = True) -> None:
        held = self.tasks.get(claim.execution_id)
        if held is not None and held[1] == claim:
            del self.tasks[claim.execution_id]
        if poll:
            self.due = True  # a slot is free for due work
        if self.due or self.hints:
            self.wake.set()

    def start_hinted(self, hint: StartHint) -> None:
        claim = Claim(hint.execution_id, hint.lease + 1)  # the lease its claim will hold, if it wins
        task = asyncio.create_task(self.guarded(claim, hint))
        self.tasks[claim.execution_id] = (task, claim)
        self.hinting.add(claim.execution_id)

        def done(finished: asyncio.Task[bool]) -> None:
            self.hinting.discard(claim.execution_id)
            # a hint this runner did not run (lost to another runner, refused, crashed) may leave
            # its execution due: the poll looks; a hinted run that ended needs no poll of its own
            ran = not finished.cancelled() and finished.exception() is None and finished.result() is True
            self.finished(claim, poll=not ran)

        task.add_done_callback(done)

    def claimed(self, execution_id: str) -> None:
        """A hinted claim is known (won or lost): its lease is renewed from now on if held."""
        self.hinting.discard(execution_id)

    async def guarded(self, claim: Claim, hint: StartHint | None = None) -> bool:
        """Run one pass; True when it was a hinted one this runner claimed and ran to its end."""
        try:
            if hint is not None:
                return await run_hinted(self.services, hint, self.claimed, self.own)
            await run_claimed(self.services, claim)
        except asyncio.CancelledError:
            _log.info("execution interrupted", execution_id=claim.execution_id)
        except Exception as exc:
            if is_outage(exc):  # PostgreSQL or Redis lost mid-pass: expected to pass, not a bug to alert on
                _log.warning("execution pass lost a backing service; it is taken over after its lease",
                             execution_id=claim.execution_id, error=f"{type(exc).__name__}: {exc}"[:300])
            else:
                _log.exception("execution pass crashed; it is taken over after its lease",
                               execution_id=claim.execution_id)
        return False

    async def keep_leases(self, stop: asyncio.Event) -> None:
        """Renew every held lease a third of the way through it; stop the work of any lost one."""
        every = self.services.settings.workflow_lease_seconds / 3
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            try:
                with self.through_outage():  # leases outlast an outage of up to two thirds of them
                    held = [claim for _, claim in self.tasks.values() if claim.execution_id not in self.hinting]
                    for execution_id in await renew(self.services, held):
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
            if not self.due or free <= 0:
                claims = []
            else:
                self.due = False
                claims = await self.claim(free)
            for claim in claims:
                if claim.execution_id in self.tasks:  # its last pass is still ending here: due again at once
                    with self.through_outage():
                        await release(claim)
                else:
                    self.start(claim)
            if claims and len(claims) == free:  # there may be more
                self.due = True
                await asyncio.sleep(0)
                continue
            try:
                await asyncio.wait_for(first_of(self.wake, stop), POLL_SECONDS)
            except TimeoutError:
                self.due = True

    async def claim(self, free: int) -> list[Claim]:
        """Due executions claimed for up to `free` slots; none while PostgreSQL is away (the next
        turn asks again), rather than a crash that restarted the job and with it interrupted every
        running execution, each then waiting out its lease to be taken over."""
        with self.through_outage():
            claims = await claim_due(self.services, free, list(self.hinting))
            self.outage = False
            return claims
        self.due = True  # reached only when through_outage passed an outage over: ask again next turn
        return []

    @contextlib.contextmanager
    def through_outage(self) -> Iterator[None]:
        """An outage in the runner's own queries is logged once while it lasts, and passed over."""
        try:
            yield
        except Exception as exc:
            if not is_outage(exc):
                raise
            if not self.outage:
                _log.warning("workflow runner lost a backing service; running executions go on, claims wait",
                             error=f"{type(exc).__name__}: {exc}"[:300])
            self.outage = True

    async def shutdown(self) -> None:
        for task, _ in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*(task for task, _ in list(self.tasks.values())), return_exceptions=True)

    async def listen(self, stop: asyncio.Event) -> None:
        """PostgreSQL with `workflow_wake = notify`: hear new executions' start hints on a connection
        of our own (executions.py sends them with NOTIFY), reconnecting when it is lost; each
        (re)connection is followed by a poll, for the hints sent while no one listened."""
        delay = LISTEN_RETRY_SECONDS
        while not stop.is_set():
            lost = asyncio.Event()
            try:
                conn = await pg_listen(self.services.settings, NOTIFY_CHANNEL, lambda m: self.heard(m.encode()))
            except Exception as exc:
                _log.warning("workflow wake listener cannot connect; the poll picks work up", error=str(exc))
            else:
                delay = LISTEN_RETRY_SECONDS
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                self.own = OwnConnection(conn)
                self.due = True
                self.wake.set()
                try:
                    await first_of(lost, stop)
                finally:
                    self.own = None
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=1)
                if stop.is_set():
                    return
                _log.warning("workflow wake listener lost its connection; reconnecting")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 5.0)


@register("workflow-runner")
async def workflow_runner(services: Services, stop: asyncio.Event) -> None:
    runner = Runner(services)
    wake = await services.bus.subscribe(WAKE_CHANNEL, lambda _c, message: runner.heard(message))
    cancel = await services.bus.subscribe(CANCEL_CHANNEL, lambda _c, m: runner.interrupt(m.decode()))
    keeper = asyncio.create_task(runner.keep_leases(stop))
    settings = services.settings
    listener = asyncio.create_task(runner.listen(stop)) if settings.wakes_by_notify else None
    try:
        await runner.run(stop)
    finally:
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
        keeper.cancel()
        await runner.shutdown()
        await wake.close()
        await cancel.close()
