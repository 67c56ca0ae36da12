"""A full disk, for real: a small tmpfs mounted as the day folder, or as the whole output directory.

The run ends with one line naming the path and the free space, the summary is still printed, no temp file
stays, exit 1; once there is space, the next run lands everything, each item exactly once. Mounting needs
root (the test machines run as root); elsewhere these tests skip, saying why.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date

import pytest

from crawler.localsite import SiteServer
from tests.conftest import run_newsmon
from tests.crawlsite import EXPECTED, serve_all, site_config


def mount_tmpfs(path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")


def remount(path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(path)], check=True)


def umount(path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def site(tmp_path):
    server = serve_all(SiteServer()).start()
    config = tmp_path / "sites.toml"
    config.write_text(site_config(server), encoding="utf-8")
    yield config
    server.stop()


def lines(out) -> list[dict]:
    return [json.loads(line) for f in sorted(out.glob("*/items.jsonl")) for line in f.read_bytes().splitlines()]


def temp_files(out) -> list:
    return [p for p in out.rglob("*.tmp")]


def assert_one_clear_line(proc, path_part: str) -> None:
    errors = [line for line in proc.stderr.splitlines() if line.startswith("newsmon: error: disk full")]
    assert len(errors) == 1, proc.stderr
    assert path_part in errors[0] and "free" in errors[0]
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "section" in proc.stdout and "run 1:" in proc.stdout  # the summary is still printed


def test_a_full_day_folder_loses_nothing_and_the_next_run_lands_every_line_once(tmp_path, site):
    out = tmp_path / "out"
    day_dir = out / date.today().isoformat()
    mount_tmpfs(day_dir, "48k")  # the day file of this site is ~230 KB: it cannot be written whole
    try:
        first = run_newsmon("run", "--config", str(site), "--output", str(out))
        assert first.returncode == 1, first.stdout + first.stderr
        assert_one_clear_line(first, str(day_dir / "items.jsonl"))
        assert temp_files(out) == []
        landed = lines(out)
        assert len({i["id"] for i in landed}) == len(landed) < len(EXPECTED)  # what is there is whole lines

        remount(day_dir, "4m")
        second = run_newsmon("run", "--config", str(site), "--output", str(out))
        assert second.returncode == 0, second.stdout + second.stderr
        assert "0 new items" in second.stdout  # stored once, fetched once
        items = lines(out)
        assert sorted(i["id"] for i in items) == sorted({i["id"] for i in items})
        assert len(items) == len(EXPECTED)
        verify = run_newsmon("verify", "--output", str(out))
        assert verify.returncode == 0, verify.stdout
    finally:
        umount(day_dir)


def test_a_full_output_directory_ends_the_run_cleanly_and_a_later_run_lands_the_rest(tmp_path, site):
    out = tmp_path / "out"
    mount_tmpfs(out, "1200k")  # room for the state DB and a few raw pages, not the whole crawl
    try:
        first = run_newsmon("run", "--config", str(site), "--output", str(out))
        assert first.returncode == 1, first.stdout + first.stderr
        assert_one_clear_line(first, str(out))
        assert first.stderr.count("\n") < 20, first.stderr  # no error per remaining article
        assert temp_files(out) == []

        remount(out, "16m")
        second = run_newsmon("run", "--config", str(site), "--output", str(out))
        assert second.returncode == 0, second.stdout + second.stderr
        items = lines(out)
        assert len(items) == len({i["id"] for i in items}) == len(EXPECTED)
        verify = run_newsmon("verify", "--output", str(out))
        assert verify.returncode == 0, verify.stdout
    finally:
        umount(out)
