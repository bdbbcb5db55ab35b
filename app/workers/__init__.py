"""Background workers: claim work, call resolvers. Later features add their jobs to JOBS."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable

from app.core.outages import is_outage
from app.logs import get_logger
from resolvers.context import Services

Job = Callable[[Services, asyncio.Event], Awaitable[None]]
current_job: contextvars.ContextVar[str | None] = contextvars.ContextVar("gatehouse_worker_job", default=None)
"""The worker job the running code belongs to (None in a request): lets logs and tests tell them apart."""
JOBS: dict[str, Job] = {}
RESTART_DELAY_SECONDS = 1.0
_log = get_logger("gatehouse.workers")


def register(name: str) -> Callable[[Job], Job]:
    """Add a job to every worker process (and to the embedded server's in-process workers)."""

    def add(job: Job) -> Job:
        JOBS[name] = job
        return job

    return add


async def supervise(name: str, job: Job, services: Services, stop: asyncio.Event) -> None:
    """Run a job until `stop` is set, restarting it after a crash: one bug must not stop the rest."""
    current_job.set(name)  # this task's context, inherited by every task the job starts
    clean = contextvars.copy_context()

    async def run() -> None:
        await job(services, stop)

    while not stop.is_set():
        try:  # each run in a copy of the context as it was before any: whatever a crash left in it goes
            await asyncio.create_task(run(), context=clean.copy())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if is_outage(exc):  # PostgreSQL or Redis lost: expected to pass, not a bug to alert on
                _log.warning("worker job lost a backing service; restarting", job=name,
                             error=f"{type(exc).__name__}: {exc}"[:300])
            else:
                _log.exception("worker job crashed; restarting", job=name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RESTART_DELAY_SECONDS)


def load_jobs() -> dict[str, Job]:
    """Import every job's module (importing registers it): `gatehouse worker` and `serve` do this
    before settling the garbage collector (app.cli), so the code the jobs bring in is frozen with the
    rest rather than left for the first young collection to scan."""
    from app.workers import jobs  # noqa: F401

    return JOBS


async def run_workers(services: Services, stop: asyncio.Event) -> None:
    """Every registered job, side by side, until `stop` is set."""
    load_jobs()
    _log.info("workers starting", jobs=sorted(JOBS))
    await asyncio.gather(*(supervise(name, job, services, stop) for name, job in JOBS.items()))
