"""Real `gatehouse` processes for tests that need several replicas, a worker, or the CLI."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from app.core.crypto import generate_key

ROOT = Path(__file__).resolve().parent.parent
# One keyring for the session: the in-process server and every process it starts share the database.
TEST_ENCRYPTION_KEYS = f"test:{generate_key()}"


def gatehouse_env(**settings: str) -> dict[str, str]:
    dropped = ("DATABASE_URL", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_") and k not in dropped}
    env.update({"GATEHOUSE_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
                "GATEHOUSE_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS})
    env.update(settings)
    return env


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`gatehouse ARGS` in a fresh interpreter, from this checkout."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{base_url} did not become healthy")


@contextmanager
def running(*args: str, env: dict[str, str], port: int | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A `gatehouse` process (serve or worker) that is stopped when the block ends."""
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env)
    try:
        if port is not None:
            wait_healthy(f"http://127.0.0.1:{port}", proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def own_redis(*options: str) -> Iterator[subprocess.Popen[bytes]]:
    """A `redis-server` of the test's own (`options` say how it listens and what it asks for),
    stopped when the block ends; the caller waits until it answers."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (make services installs it)")
    server = subprocess.Popen([binary, "--save", "", "--appendonly", "no", *options], stdout=subprocess.DEVNULL)
    try:
        yield server
    finally:
        server.terminate()
        server.wait(10)


async def until_redis_answers(url: str) -> None:
    """Wait up to 5 s for a just-started Redis at `url` to answer PING."""
    client = aioredis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                await client.ping()
                return
            except (aioredis.ConnectionError, OSError):
                await asyncio.sleep(0.05)
        raise AssertionError(f"Redis at {url} did not start")
    finally:
        await client.aclose()
