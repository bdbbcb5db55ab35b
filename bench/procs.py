"""Processes the harness starts and stops: servers under test, baselines, receivers, load clients.

Each server runs in its own process (as in production: one uvicorn process) and each load run in
another, so on two cores the client and the server each get one. Every wait here is bounded, and
the harness stops only the processes it started, by their pid.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"  # ignored by git: logs, profiles
LOG_DIR = OUT_DIR / "logs"
PYTHON = sys.executable


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _raise_fd_limit() -> None:
    """1,000 WebSocket subscribers need more descriptors than the usual soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def uvicorn_cmd(app: str, port: int) -> list[str]:
    """How every baseline app is served: one uvicorn process, uvloop and httptools, no access log."""
    return [
        PYTHON,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]


@dataclass
class Service:
    """A server process with a readiness probe; a context manager that always stops it."""

    name: str
    cmd: list[str]
    port: int | None = None
    health_path: str | None = "/health"
    env: dict[str, str] = field(default_factory=dict)
    ready_timeout: float = 30.0
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Service:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(LOG_DIR / f"{self.name}.log", "ab")  # noqa: SIM115 (owned by the child)
        self.process = subprocess.Popen(
            self.cmd,
            cwd=REPO_DIR,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_raise_fd_limit,
        )
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        """Poll the health path (any answer under 500), or only liveness when there is no port."""
        deadline = time.monotonic() + self.ready_timeout
        for _ in range(int(self.ready_timeout / 0.1) + 1):
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {LOG_DIR}")
            if self.port is None or self.health_path is None or self._answers():
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} not ready within {self.ready_timeout}s; see {LOG_DIR}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + str(self.health_path), timeout=1) as response:
                return int(response.status) < 500
        except urllib.error.HTTPError as exc:
            return exc.code < 500
        except OSError:
            return False

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds; only this service's own process."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> Service:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_json(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a bench tool in its own process and parse the one JSON object it prints."""
    completed = subprocess.run(
        cmd,
        cwd=REPO_DIR,
        env={**os.environ, **(env or {})},
        capture_output=True,
        timeout=timeout,
        preexec_fn=_raise_fd_limit,
        check=False,
    )
    if completed.returncode != 0:
        what = " ".join(cmd[1:4])
        raise RuntimeError(f"{what} failed ({completed.returncode}): {completed.stderr[-800:]!r}")
    return dict(json.loads(completed.stdout.decode().strip().splitlines()[-1]))
