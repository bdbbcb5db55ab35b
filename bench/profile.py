"""Sampling profiles of the hottest paths (py-spy), kept as text so the next optimisation starts from data.

`py-spy record --format raw` writes collapsed stacks (`frame;frame;... count`); the summary gives the
frames with the most samples of their own and, because those are mostly library frames, the
functions of Gatehouse's own packages with the largest inclusive share: where in our code the time
goes. Idle samples (the event loop waiting) are left out by py-spy, so shares are of busy time.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.procs import OUT_DIR, PYTHON

OUR_CODE = ("(app/", "(resolvers/", "(schema/", "(models/")
RATE_HZ = 250


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(PYTHON).with_name("py-spy"))
    return found if Path(found).exists() else None


def record(pid: int, name: str, seconds: float, drive: Callable[[], Any]) -> Path:
    """Sample `pid` while `drive()` loads it; write profile-NAME.collapsed and profile-NAME.txt."""
    spy = py_spy()
    if spy is None:
        raise RuntimeError("py-spy is not installed in the venv")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    raw, text = OUT_DIR / f"profile-{name}.collapsed", OUT_DIR / f"profile-{name}.txt"
    cmd = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(RATE_HZ)]
    cmd += ["--format", "raw", "-o", str(raw)]
    sampler = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    result = drive()
    _, err = sampler.communicate(timeout=seconds + 60)
    if not raw.exists():
        raise RuntimeError(f"py-spy wrote nothing: {err.decode()[-300:]}")
    cpu = result.get("server_cpu_us_per_request")
    title = f"profile of {name}: {result.get('rps')} req/s, {cpu} us of server CPU per request\n"
    text.write_text(title + summary(raw.read_text()))
    return text


def _counts(collapsed: str) -> tuple[int, dict[str, int], dict[str, int]]:
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count, frames = int(count_text), stack.split(";")
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
    return total, own, inclusive


def summary(collapsed: str, limit: int = 25) -> str:
    """Self and inclusive sample shares: the top frames overall, then the top frames of our code."""
    total, own, inclusive = _counts(collapsed)
    if not total:
        return "no samples\n"
    lines = [f"{total} samples at {RATE_HZ} Hz", "", "top frames by own samples", "self%  incl%  frame"]
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:limit]:
        lines.append(f"{100 * count / total:5.1f}  {100 * inclusive[frame] / total:5.1f}  {frame}")
    ours = [frame for frame in inclusive if any(mark in frame for mark in OUR_CODE)]
    lines += ["", "our code by inclusive samples", "incl%  frame"]
    for frame in sorted(ours, key=lambda f: -inclusive[f])[:limit]:
        lines.append(f"{100 * inclusive[frame] / total:5.1f}  {frame}")
    return "\n".join(lines) + "\n"


def head(path: Path, own_lines: int = 12, our_lines: int = 12) -> str:
    """The first entries of both lists of a summary, for the run's output."""
    text = path.read_text().splitlines()
    if "our code by inclusive samples" not in text:
        return "\n".join(text[: own_lines + 5])
    split = text.index("our code by inclusive samples")
    return "\n".join([*text[: 5 + own_lines], "", *text[split : split + 2 + our_lines]])
