"""Background workers: claim work, call resolvers. Later features add their jobs to JOBS."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable

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
    while not stop.is_set():
        try:
            await job(services, stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("worker job crashed; restarting", job=name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RESTART_DELAY_SECONDS)


async def run_workers(services: Services, stop: asyncio.Event) -> None:
    """Every registered job, side by side, until `stop` is set."""
    from app.workers import jobs  # noqa: F401  (importing registers the jobs)

    _log.info("workers starting", jobs=sorted(JOBS))
    await asyncio.gather(*(supervise(name, job, services, stop) for name, job in JOBS.items()))
