"""`settle_garbage_collector` freezes the worker's code with the rest: no module a worker job uses is
imported after it. The worker used to import its jobs afterwards, and the objects of their modules
(some 90,000: the MCP SDK's models among them) waited in the young generation until a worker started
with a backlog ran its first young collection mid-burst (40-53 ms scanning them, 929 freed)."""

from __future__ import annotations

import subprocess
import sys

SETTLE_THEN_LOAD = """
import gc, sys
from app.cli import settle_garbage_collector
settle_garbage_collector()
before, young = set(sys.modules), gc.get_count()[0]
from app.workers import jobs  # what run_workers imports to register the jobs
late = sorted(set(sys.modules) - before)
print(len(late), gc.get_count()[0] - young, late[:10])
"""


def test_no_job_module_is_imported_after_the_collector_is_settled() -> None:
    answer = subprocess.run([sys.executable, "-c", SETTLE_THEN_LOAD], capture_output=True, text=True, timeout=60,
                            check=True)
    late, grown, names = answer.stdout.split(" ", 2)
    assert int(late) == 0, f"imported after the freeze: {names}"
    assert int(grown) < 1000, f"{grown} objects joined the young generation"
