"""What both benchmarks report about the run: the machine, the commit, tool versions."""

import datetime
import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def command_version(argv: list[str]) -> str:
    """The first line a command prints (its version, usually), or "unknown"."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (proc.stdout or proc.stderr).strip().splitlines()[0] if proc.returncode == 0 else "unknown"
    except (OSError, IndexError):
        return "unknown"


def machine_info() -> dict:
    """Date, commit (marked when the tree has changes), CPU, cores, memory, OS, load."""
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.processor())
    git = ["git", "-C", str(REPO)]
    commit = command_version(git + ["rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    debian = Path("/etc/debian_version")
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "cpu_model": cpu_model,
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1),
        "os": f"{platform.system()} {platform.release()}"
              + (f", Debian {debian.read_text().strip()}" if debian.exists() else ""),
        "loadavg_at_start": os.getloadavg()[0],
    }
