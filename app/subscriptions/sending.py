"""A connection's bounded send queue, written by a task that exists only while frames wait.

A writer task per connection parked on `asyncio.Queue.get()` left a fresh future and coroutine
alive between two events on every connection. Measured with 10,000 open dashboards, the collector
promoted those survivors to its oldest generation, so full collections of about 1.4 million objects
(700 ms each, the whole server paused) came every few seconds of fan-out. Here an idle connection
holds no task and no future, and a delivery is a deque append plus, once per burst, a task.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocketDisconnect


class SendQueue:
    """Frames in order, at most `limit` waiting; `on_failure` runs when a send fails (the peer left)."""

    __slots__ = ("_frames", "_limit", "_on_failure", "_room", "_send", "_writer")

    def __init__(self, send: Callable[[str], Awaitable[None]], limit: int, on_failure: Callable[[], None]) -> None:
        self._send, self._limit, self._on_failure = send, limit, on_failure
        self._frames: deque[str] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._room: asyncio.Event | None = None  # only while `put` waits for space

    def put_nowait(self, frame: str) -> bool:
        """Queue `frame`; False, and nothing queued, when `limit` frames already wait."""
        if len(self._frames) >= self._limit:
            return False
        self._frames.append(frame)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())
        return True

    async def put(self, frame: str) -> None:
        """Queue `frame` once there is room (a replay goes at the client's pace)."""
        while len(self._frames) >= self._limit:
            self._room = self._room or asyncio.Event()
            await self._room.wait()
        self.put_nowait(frame)

    def drop(self, prefix: str) -> None:
        """Forget the waiting frames that start with `prefix` (an operation the client completed)."""
        if any(frame.startswith(prefix) for frame in self._frames):
            self._frames = deque(frame for frame in self._frames if not frame.startswith(prefix))

    def cancel(self) -> None:
        if self._writer is not None:
            self._writer.cancel()

    async def _write(self) -> None:
        try:
            while self._frames:
                await self._send(self._frames.popleft())
                if self._room is not None:
                    self._room.set()
                    self._room = None
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._on_failure()
        finally:
            self._writer = None
