"""CPU and memory readings from /proc, to tell a saturated client or machine from a slow server."""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """CPU time of this process (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid: int | None) -> float | None:
    """User + system CPU seconds of a local process (all its threads), None when unknown."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def process_memory_kb(pid: int | None) -> int | None:
    """Resident set size of a local process, None when unknown."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def machine_busy_and_stolen_s() -> tuple[float, float]:
    """CPU seconds since boot (all cores) the whole machine spent not idle (stolen time included),
    and those the hypervisor gave to other guests while this machine wanted them: a step with stolen
    time was measured on a host that was taking its cores away. One read, so both are one instant."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    stolen = values[7] if len(values) > 7 else 0
    return (sum(values[:8]) - idle) / TICKS, stolen / TICKS


@dataclass(frozen=True)
class Reading:
    """One instant: wall clock, this process's CPU, a server's CPU, the machine's busy and stolen time."""

    wall: float
    client_cpu: float
    server_cpu: float | None
    machine_busy: float
    machine_stolen: float

    @classmethod
    def now(cls, server_pid: int | None = None) -> Reading:
        busy, stolen = machine_busy_and_stolen_s()
        return cls(time.perf_counter(), cpu_seconds(), process_cpu_s(server_pid), busy, stolen)


def cores_used(before: Reading, after: Reading) -> dict[str, float | None]:
    """Average cores used between two readings by the client, the server and the whole machine."""
    wall = max(after.wall - before.wall, 1e-9)
    server = None
    if before.server_cpu is not None and after.server_cpu is not None:
        server = round((after.server_cpu - before.server_cpu) / wall, 2)
    return {
        "client": round((after.client_cpu - before.client_cpu) / wall, 2),
        "server": server,
        "machine": round((after.machine_busy - before.machine_busy) / wall, 2),
        "stolen": round((after.machine_stolen - before.machine_stolen) / wall, 2),
    }


def cpu_by_command() -> dict[str, float]:
    """CPU seconds used so far by every live process, summed by command name (`postgres`,
    `redis-server`, `python`...; kernel threads such as `kworker/u8:1-writeback` as `kworker`): to see
    which process takes the machine's cores during a step."""
    totals: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                head, rest = handle.read().rsplit(")", 1)
        except OSError:
            continue
        name, fields = head.split("(", 1)[1].split("/", 1)[0], rest.split()
        totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICKS
    return totals


def cpu_spent_since(before: dict[str, float], after: dict[str, float], per: int) -> dict[str, float]:
    """Microseconds of CPU per unit of work (`per` units) by command name, largest first."""
    spent = {name: (after[name] - before.get(name, 0.0)) * 1e6 / max(per, 1) for name in after}
    return {name: round(us, 1) for name, us in sorted(spent.items(), key=lambda kv: -kv[1]) if us >= 1}
