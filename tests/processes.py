"""Real `gatehouse` processes for tests that need several replicas, a worker, or the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

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
