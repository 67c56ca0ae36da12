"""Helpers of the item-store tests (tests/test_store_integrity.py, tests/test_migrations.py): generated items
in newsmon's schema, the real CLI as a subprocess (waited for, or killed), and reading the output directory
as a reader would (day files) and as the state DB holds it (plain sqlite3, read-only: never through
``crawler.state.connect``, which would migrate)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from crawler.items import canonicalize_url, content_hash, empty_translation, item_id
from crawler.store import dayfiles
from crawler.store import items as item_store
from tests.conftest import ROOT

# Sentences in the words of the tiny model's training corpus (tests/tinymodel.py): its vocabulary covers them.
ZH_SENTENCES = [
    "习近平会见王毅。",
    "中俄两国人民友谊源远流长！",
    "双方同意加强合作；会谈在友好气氛中举行……",
    "外交部发言人毛宁主持例行记者会。",
    "记者问：中方对此有何评论？",
    "普京总统访问北京。",
    "国家主席习近平今天在人民大会堂同俄罗斯总统普京举行会谈。",
]
RU_SENTENCES = [
    "Президент России Владимир Путин провёл переговоры.",
    "Министр иностранных дел Сергей Лавров встретился с Ван И.",
    "В.Путин заявил, что отношения находятся на высоком уровне!",
    "Официальный представитель МИД Мария Захарова ответила на вопросы журналистов.",
    "Встреча прошла в дружественной атмосфере.",
]
EN_SENTENCES = [
    "The President of Russia held talks with the President of China in the Kremlin.",
    "Foreign Minister Sergei Lavrov met Wang Yi.",
    "Vladimir Putin visited Beijing.",
]


def make_item(n: int, lang: str, day: str, base: str = "http://news.example.test") -> dict:
    """Item number ``n`` in ``lang`` (zh, ru, en), fetched on ``day``: valid for ``newsmon import``."""
    sentences = {"zh": ZH_SENTENCES, "ru": RU_SENTENCES, "en": EN_SENTENCES}[lang]
    paragraphs = [sentences[(n + k) % len(sentences)] for k in range(3)]
    paragraphs[-1] += f" {n}"  # every item its own content
    title = sentences[n % len(sentences)].rstrip("。！.!")
    canonical = canonicalize_url(f"{base}/{lang}/{day}/article-{n}.html")
    item = {
        "id": item_id(canonical),
        "source": f"test-{lang}",
        "section": "news",
        "section_key": f"test-{lang}/news",
        "url": canonical,
        "canonical_url": canonical,
        "fetched_at": f"{day}T08:{n % 60:02d}:00+00:00",
        "published_at": None,
        "title": title,
        "text": "\n\n".join(paragraphs),
        "paragraphs": paragraphs,
        "lang": lang,
        "lang_confidence": 0.99,
        "paragraph_langs": None,
        "authors": [],
        "content_hash": content_hash(title, paragraphs),
        "version": 1,
    }
    item.update(empty_translation(lang))
    return item


def write_jsonl(path: Path, items: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the CLI


def env_for(tmp: Path, packages_dir: Path | None = None) -> dict[str, str]:
    """A private environment: no developer config, Argos' packages in ``packages_dir`` (an empty one when
    None: no model), Argos' home dirs under ``tmp``."""
    home = tmp / "home"
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_CONFIG"}
    env.update(
        PYTHONUNBUFFERED="1",
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        ARGOS_PACKAGES_DIR=str(packages_dir or tmp / "no-packages"),
    )
    return env


def newsmon(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(proc: subprocess.CompletedProcess, *codes: int) -> subprocess.CompletedProcess:
    assert proc.returncode in (codes or (0,)), (
        f"{' '.join(proc.args[2:])} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    return proc


def start(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", *map(str, args)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_when(proc: subprocess.Popen, ready, delay: float, watch, timeout: float = 60) -> bool:
    """Wait until ``ready()`` (polled), then ``delay`` seconds more, then SIGKILL ``proc``; ``watch()`` is
    called on every poll (a reader looking at the files meanwhile). True when the kill hit a living
    process, False when it had already exited."""
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and not ready():
            watch()
            assert time.monotonic() < deadline, "the kill point was never reached"
            time.sleep(0.005)
        until = time.monotonic() + delay
        while proc.poll() is None and time.monotonic() < until:
            watch()
            time.sleep(0.005)
        alive = proc.poll() is None
        if alive:
            os.kill(proc.pid, signal.SIGKILL)
        return alive
    finally:
        _end(proc)


def kill_in_state(proc: subprocess.Popen, ready, caught, watch, *, burst: float = 0.0003, timeout: float = 60) -> bool:
    """SIGKILL ``proc`` in a state ``caught()`` sees, however briefly the state lasts: the process runs
    freely until ``ready()``, then in short bursts (SIGCONT … SIGSTOP), looked at between them while it
    stands still (``watch()`` too), and is killed as soon as ``caught()``. True when killed so, False when
    it exited first."""
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and not ready():
            watch()
            assert time.monotonic() < deadline, "the kill point was never reached"
            time.sleep(0.002)
        while proc.poll() is None:
            os.kill(proc.pid, signal.SIGSTOP)
            if not _stopped(proc.pid):
                break  # it has exited meanwhile
            watch()
            if caught():
                os.kill(proc.pid, signal.SIGKILL)
                return True
            assert time.monotonic() < deadline, "the state to kill in never came"
            os.kill(proc.pid, signal.SIGCONT)
            time.sleep(burst)
        return False
    finally:
        _end(proc)


def _end(proc: subprocess.Popen) -> None:
    """Never leave the process behind (an assertion failed meanwhile, say), stopped or running."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _stopped(pid: int) -> bool:
    """Wait until ``pid`` stands still after a SIGSTOP (state T); False when it is a zombie (exited)."""
    while True:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return False
        state = stat[stat.rindex(")") + 2]
        if state in "Tt":
            return True
        if state in "ZX":
            return False
        time.sleep(0.0001)


# ---------------------------------------------------------------- what a reader sees


def day_files(out: Path) -> list[Path]:
    """Each day's file as a reader takes it: the gzipped one of an earlier day (a plain one a crash left beside
    it is a leftover the next export removes), else the plain one."""
    return [dayfiles.day_files(out, day)[0] for day in sorted(dayfiles.file_days(out))]


def read_day_files(out: Path) -> dict[str, list[dict]]:
    """Day → its items, as a reader of the day files sees them now. Asserts what every reader may rely on:
    no torn line (each file ends with a newline, every line is one JSON object with an id) and no id twice
    (in a file or across files)."""
    found: dict[str, list[dict]] = {}
    ids: dict[str, str] = {}
    for path in day_files(out):
        data = dayfiles.read_day_file(path)
        assert not data or data.endswith(b"\n"), f"{path}: torn last line"
        items = []
        for number, raw in enumerate(data.splitlines(), start=1):
            try:
                item = json.loads(raw)
            except ValueError:
                raise AssertionError(f"{path}:{number}: not JSON: {raw[:80]!r}…") from None
            assert isinstance(item, dict) and isinstance(item.get("id"), str), f"{path}:{number}: not an item"
            assert item["id"] not in ids, f"{path}:{number}: id {item['id']} also in {ids[item['id']]}"
            ids[item["id"]] = f"{path}:{number}"
            items.append(item)
        found[path.parent.name] = items
    return found


def db_items(db: Path) -> dict[str, dict]:
    """Item id → the item of its ``items`` row (read with plain sqlite3, read-only; whole, through the store's
    reader: a row leaves out the text its paragraphs rebuild)."""
    with closing(ro(db)) as conn:
        return {ident: item_store.loads(text) for ident, text in conn.execute("SELECT id, json FROM items")}


def db_count(db: Path, sql: str) -> int:
    with closing(ro(db)) as conn:
        return conn.execute(sql).fetchone()[0]


def ro(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def user_version(db: Path) -> int:
    with closing(ro(db)) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]
