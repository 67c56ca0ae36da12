"""What the benchmarks read about a finished or running ``newsmon`` process, in one place."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


def vm_hwm_kb(pid: int | str = "self") -> int:
    """A process's peak RSS in kB (``VmHWM``: its own peak; ``ru_maxrss`` of a child also counts the memory
    of the parent it was forked from); 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def last_run_seconds(output_dir: Path) -> dict[str, float]:
    """The last run's own seconds per step (restore, crawl, each stage, export: ``runs.summary``)."""
    conn = sqlite3.connect(Path(output_dir) / "state.sqlite")
    try:
        row = conn.execute("SELECT summary FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return json.loads(row[0]).get("seconds", {}) if row and row[0] else {}
