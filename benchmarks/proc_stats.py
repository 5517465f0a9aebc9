"""What the benchmarks read from /proc, in one place: a process's CPU and memory, its children, the CPU time of
each of its threads, how busy the whole machine was, and the load average."""

from __future__ import annotations

import os
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int, task: str = "") -> float:
    """User + system CPU seconds of a process (or of one of its threads, `task`); 0 once it has gone."""
    stat = Path(f"/proc/{pid}/task/{task}/stat" if task else f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def proc_memory_mb(pid: int) -> dict[str, float]:
    """VmHWM (peak), VmRSS, RssAnon and RssFile of a process, in MB."""
    wanted = {"VmHWM:": "peak", "VmRSS:": "rss", "RssAnon:": "anon", "RssFile:": "file"}
    memory = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":", 1)[0] + ":"
        if key in wanted:
            memory[wanted[key]] = int(line.split()[1]) / 1024
    return memory


def thread_times(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (threads of one name summed)."""
    times: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
        except OSError:  # the thread ended
            continue
        times[name] = times.get(name, 0.0) + proc_cpu_s(pid, task.name)
    return times


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _all_cpus_ticks() -> list[int]:
    """The "cpu" line of /proc/stat: user, nice, system, idle, iowait, irq, softirq, steal, ... in ticks."""
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def machine_cpu_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of all CPUs since boot; busy is user, nice, system, irq, softirq and steal (not
    idle or iowait; guest time is already inside user)."""
    fields = _all_cpus_ticks()
    busy = sum(fields[:3]) + sum(fields[5:8])
    return busy / TICKS_PER_S, (busy + fields[3] + fields[4]) / TICKS_PER_S


def machine_steal_s() -> float:
    """CPU seconds the hypervisor gave to other guests while this machine's CPUs wanted to run (steal, since
    boot): on a shared virtual machine it changes from run to run and makes timings of different runs differ."""
    fields = _all_cpus_ticks()
    return fields[7] / TICKS_PER_S if len(fields) > 7 else 0.0


def machine_busy_s() -> float:
    return machine_cpu_s()[0]


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()
