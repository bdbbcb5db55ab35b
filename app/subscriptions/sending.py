"""A connection's bounded send queue, written by a task that exists only while frames wait.

A writer task per connection parked on `asyncio.Queue.get()` left a fresh future and coroutine
alive between two events on every connection. Measured with 10,000 open dashboards, the collector
promoted those survivors to its oldest generation, so full collections of about 1.4 million objects
(700 ms each, the whole server paused) came every few seconds of fan-out. Here an idle connection
holds no task and no future.

A frame for a connection with nothing waiting is sent in the call that queues it: the send is
stepped once by hand, and a socket that takes the frame (its transport is not paused) finishes it
there, so the usual delivery (one frame per connection per event) makes no task at all. Only a
send that has to wait, because the peer reads slowly, goes on in a writer task, ahead of the frames
queued behind it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from starlette.websockets import WebSocketDisconnect

_log = logging.getLogger("gatehouse.subscriptions")


class SendQueue:
    """Frames in order, at most `limit` waiting; `on_failure` runs when a send fails (the peer left)."""

    __slots__ = ("_frames", "_limit", "_on_failure", "_room", "_send", "_writer")

    def __init__(self, send: Callable[[str], Coroutine[Any, Any, None]], limit: int,
                 on_failure: Callable[[], None]) -> None:
        self._send, self._limit, self._on_failure = send, limit, on_failure
        self._frames: deque[str] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._room: asyncio.Event | None = None  # only while `put` waits for space

    def put_nowait(self, frame: str) -> bool:
        """Queue `frame` (or send it now, when nothing waits); False, and nothing queued, when
        `limit` frames already wait."""
        if len(self._frames) >= self._limit:
            return False
        if self._writer is None and not self._frames:
            self._send_now(frame)
            return True
        self._frames.append(frame)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())
        return True

    def _send_now(self, frame: str) -> None:
        """Step the frame's send once: done when the socket took it; else the writer task finishes it."""
        sending = self._send(frame)
        try:
            waited_on = sending.send(None)
        except StopIteration:
            return
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._on_failure()
            return
        except Exception:  # this connection's, not the fan-out's: the hub routes on to the others
            _log.exception("sending a frame failed unexpectedly; the connection is closed")
            self._on_failure()
            return
        self._writer = asyncio.get_running_loop().create_task(self._write(_Rest(sending, waited_on)))

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

    async def _write(self, started: Awaitable[None] | None = None) -> None:
        try:
            if started is not None:
                await started
            while self._frames:
                await self._send(self._frames.popleft())
                if self._room is not None:
                    self._room.set()
                    self._room = None
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._on_failure()
        finally:
            self._writer = None


class _Rest:
    """The rest of a send coroutine stepped once by hand (SendQueue._send_now), which then waited on
    `waited_on`: awaited in a task, it hands the task that future first and goes on as the coroutine
    would have (a cancellation is thrown into it, as into any awaited coroutine)."""

    __slots__ = ("_sending", "_waited_on")

    def __init__(self, sending: Coroutine[Any, Any, None], waited_on: Any) -> None:
        self._sending, self._waited_on = sending, waited_on

    def __await__(self) -> Generator[Any, Any, None]:
        sending, waiting = self._sending, self._waited_on
        while True:
            try:
                answer = yield waiting
            except BaseException as thrown:  # passed into the send, which decides
                try:
                    waiting = sending.throw(thrown)
                except StopIteration:
                    return
            else:
                try:
                    waiting = sending.send(answer)
                except StopIteration:
                    return
