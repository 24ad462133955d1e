"""A low-spec box: a cgroup of half a CPU and 256 MB, made and removed by the benchmark.

cgroup v2 (``cpu.max``, ``memory.max``) where the unified hierarchy has both
controllers, else cgroup v1 (``cpu.cfs_quota_us``, ``memory.limit_in_bytes``, swap
limited too where the kernel accounts it). Needs root and a writable cgroup file
system; :func:`unavailable` says why not otherwise, and the benchmark reports the
low-spec figures as not measured with that reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CPU_QUOTA_US, CPU_PERIOD_US = 50_000, 100_000
MEMORY_BYTES = 256 * 1024 * 1024
DESCRIPTION = "cgroup: 0.5 CPU (quota 50 ms per 100 ms), 256 MB memory"


def _v2_ready() -> bool:
    controllers = ROOT / "cgroup.controllers"
    return controllers.exists() and {"cpu", "memory"} <= set(controllers.read_text().split())


def unavailable() -> str | None:
    """Why a low-spec cgroup cannot be made here, or ``None`` if it can."""
    if os.geteuid() != 0:
        return "not root: cgroups are not writable"
    if _v2_ready():
        return None if os.access(ROOT, os.W_OK) else f"{ROOT} is not writable"
    for ctl in ("cpu", "memory"):
        if not os.access(ROOT / ctl, os.W_OK):
            return f"no writable cgroup v2 with cpu+memory, nor cgroup v1 {ROOT / ctl}"
    return None


class Box:
    """One cgroup (v2) or a cpu+memory pair (v1); ``enter`` moves the calling process in."""

    def __init__(self, name: str) -> None:
        self.dirs: list[Path] = []
        if _v2_ready():
            d = ROOT / name
            subtree = ROOT / "cgroup.subtree_control"
            if not {"cpu", "memory"} <= set(subtree.read_text().split()):
                subtree.write_text("+cpu +memory")
            d.mkdir()
            self.dirs.append(d)
            (d / "cpu.max").write_text(f"{CPU_QUOTA_US} {CPU_PERIOD_US}")
            (d / "memory.max").write_text(str(MEMORY_BYTES))
            if (d / "memory.swap.max").exists():
                (d / "memory.swap.max").write_text("0")
            self.version = 2
            return
        cpu, mem = ROOT / "cpu" / name, ROOT / "memory" / name
        cpu.mkdir()
        self.dirs.append(cpu)
        mem.mkdir()
        self.dirs.append(mem)
        (cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
        (cpu / "cpu.cfs_quota_us").write_text(str(CPU_QUOTA_US))
        (mem / "memory.limit_in_bytes").write_text(str(MEMORY_BYTES))
        memsw = mem / "memory.memsw.limit_in_bytes"
        if memsw.exists():
            try:
                memsw.write_text(str(MEMORY_BYTES))
            except OSError:  # swap accounting off in this kernel: memory limit only
                pass
        self.version = 1

    def enter(self) -> None:
        """Join the box (a ``preexec_fn``: runs in the child between fork and exec)."""
        pid = str(os.getpid())
        for d in self.dirs:
            (d / "cgroup.procs").write_text(pid)

    def remove(self) -> None:
        for d in reversed(self.dirs):
            try:
                d.rmdir()
            except OSError:
                pass


@contextmanager
def box() -> Iterator[Box]:
    """Make a fresh low-spec cgroup and remove it afterwards (its children have exited)."""
    name = f"kedai-bench-{os.getpid()}"
    try:
        b = Box(name)
    except OSError:
        for d in (ROOT / name, ROOT / "cpu" / name, ROOT / "memory" / name):
            if d.is_dir():
                d.rmdir()
        raise
    try:
        yield b
    finally:
        b.remove()
