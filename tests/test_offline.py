"""Offline is one condition: when every host of a run fails at the network level, no section changes state,
one ``crawler_offline`` fires after the hysteresis and ``crawler_online`` when the network answers again;
``newsmon status`` says it in one line. One host down still counts against its own sections.

End to end: real `newsmon run` cycles against loopback servers that are stopped (their ports closed: every
connection refused) and started again on the same ports.
"""

from __future__ import annotations

import json

import pytest
import scrapy
from scrapy import exceptions as scrapy_exc
from scrapy.exceptions import IgnoreRequest
from twisted.internet import error as neterr
from twisted.python.failure import Failure

from crawler import state
from crawler.crawl.fetcherrors import describe
from crawler.lifecycle import offline
from crawler.lifecycle.offline import Connectivity, Verdict, network_failure, step, verdict
from crawler.localsite import Route, SiteServer, write_loopback_config
from tests.alerting import WebhookReceiver, article_page, free_port, listing_page, rows
from tests.conftest import run_newsmon

PARAS = [
    "The delegation arrived on Monday for two days of talks on energy supplies and regional security.",
    "Officials said the talks would also prepare a summit planned for the spring in the capital.",
    "It is the third such visit this year, after meetings held in March and again in July.",
]


# ---------------------------------------------------------------- what counts as a network failure
def failed(exc: Exception, url: str = "http://news.example/world/") -> str:
    """The entry error a section records for ``exc``: the spider's ``<url>: <describe()'s words>``."""
    failure = Failure(exc)
    failure.request = scrapy.Request(url)
    return f"{url}: {describe(failure, timeout=5).text}"


@pytest.mark.parametrize(
    "exc, kind",
    [
        (neterr.DNSLookupError("news.example"), "DNS lookup failed"),
        (scrapy_exc.CannotResolveHostError("news.example"), "DNS lookup failed"),
        (neterr.ConnectionRefusedError(), "connection refused"),
        (scrapy_exc.DownloadConnectionRefusedError(), "connection refused"),
        (neterr.NoRouteError(), "unreachable"),
        (neterr.ConnectError(osError="101: Network is unreachable"), "unreachable"),
        (neterr.TimeoutError(), "timeout"),
        (neterr.TCPTimedOutError(), "timeout"),
        (scrapy_exc.DownloadTimeoutError(), "timeout"),
        (neterr.ConnectionLost(), None),  # the host answered, then dropped the line
        (IgnoreRequest("Forbidden by robots.txt"), None),
    ],
)
def test_the_words_of_describe_tell_a_network_failure(exc, kind):
    assert network_failure(failed(exc)) == kind


@pytest.mark.parametrize(
    "entry_error",
    [
        None,
        "http://h/x: HTTP 404",
        "http://h/x: HTTP 503",
        "http://h/timeout-news: malformed feed: not well-formed XML",
        "http://h/x: empty page",
        "not crawled: the run was interrupted",
        "not crawled: storing stopped (disk full)",
        "crawl failed: ModuleNotFoundError: No module named 'timeout'",
    ],
)
def test_answers_and_other_failures_are_not_network_failures(entry_error):
    assert network_failure(entry_error) is None


def test_a_run_is_offline_only_when_every_section_failed_at_the_network_level():
    urls = {"a/news": "http://a.example/news", "a/world": "http://a.example/world", "b/feed": "http://b.example/rss"}
    down = {
        "a/news": {"entry_error": "http://a.example/news: DNS lookup failed for a.example"},
        "a/world": {"entry_error": "http://a.example/world: DNS lookup failed for a.example"},
        "b/feed": {"entry_error": "http://b.example/rss: timeout after 5 s"},
    }
    found = verdict(down, urls)
    assert found == Verdict(3, 2, {"DNS lookup failed": 2, "timeout": 1})
    assert found.cause == "3 sections on 2 hosts: DNS lookup failed (2), timeout (1)"
    assert verdict({**down, "b/feed": {"entry_error": None}}, urls) is None  # b answered
    assert verdict({**down, "b/feed": {"entry_error": "http://b.example/rss: HTTP 500"}}, urls) is None
    assert verdict({}, urls) is None


def test_the_hysteresis_of_the_crawler_itself():
    down = Verdict(18, 7, {"DNS lookup failed": 18})
    st, evs = step(Connectivity(), 1, "t1", down, hysteresis_runs=2)
    assert (st.state, st.runs, st.since, evs) == ("online", 1, "t1", [])
    st, evs = step(st, 2, "t2", None, hysteresis_runs=2)  # the network answered before confirmation
    assert (st, evs) == (Connectivity(last_run_id=2), [])
    for run in (3, 4, 5):
        st, evs = step(st, run, f"t{run}", down, hysteresis_runs=2)
        assert [e.type for e in evs] == (["crawler_offline"] if run == 4 else [])
        if run == 4:
            assert evs[0].section is None and evs[0].source is None
            assert evs[0].cause == (
                "every host failed at the network level (2 consecutive runs, since t3): "
                "18 sections on 7 hosts: DNS lookup failed (18)"
            )
    assert (st.state, st.runs, st.since, st.first_run_id) == ("offline", 3, "t3", 3)
    assert offline.status_line(st).startswith(
        "crawler offline since t3 (3 runs): every host failed at the network level"
    )
    st, evs = step(st, 6, "t6", None, hysteresis_runs=2)
    assert [(e.type, e.cause) for e in evs] == [
        ("crawler_online", "a run reached the network again (offline since t3, 3 runs)")
    ]
    assert st == Connectivity(last_run_id=6)


# ---------------------------------------------------------------- end to end
def serve(server: SiteServer, night: int) -> None:
    """Host A: two listings; host B: one feed. Night ``night`` adds one article to each section."""
    for name in ("news", "world"):
        links = [(f"/{name}/{n}.html", f"{name.title()} story {n}") for n in range(1, night + 2)]
        server.routes[f"/{name}/"] = Route(listing_page(links))
        for path, title in links:
            server.routes[path] = Route(article_page(title, PARAS))
    entries = "".join(
        f"<item><title>Feed story {n}</title><link>{server.url}/feed/{n}.html</link></item>"
        for n in range(1, night + 2)
    )
    server.routes["/rss.xml"] = Route(
        f"<rss version='2.0'><channel>{entries}</channel></rss>".encode(), content_type="application/rss+xml"
    )
    for n in range(1, night + 2):
        server.routes[f"/feed/{n}.html"] = Route(article_page(f"Feed story {n}", PARAS))


def two_hosts_config(tmp_path, port_a: int, port_b: int, extra: str = ""):
    a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    sources = [
        {
            "id": "alpha",
            "name": "Alpha",
            "homepage": f"{a}/",
            "sections": [
                {"id": n, "kind": "listing", "url": f"{a}/{n}/", "link_css": "div.item a"} for n in ("news", "world")
            ],
        },
        {
            "id": "beta",
            "name": "Beta",
            "homepage": f"{b}/",
            "sections": [{"id": "feed", "kind": "feed", "url": f"{b}/rss.xml"}],
        },
    ]
    return write_loopback_config(
        tmp_path / "newsmon.toml",
        sources,
        extra=extra,
        crawler={"output_dir": str(tmp_path / "out"), "timeout": 5},
        lifecycle={"recheck_max": 0, "hysteresis_runs": 2},
    )


def cycle(cfg, expect: int) -> None:
    proc = run_newsmon("run", "--config", str(cfg), timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == expect, proc.stdout + proc.stderr
    assert "stage crawler.lifecycle.stage failed" not in proc.stdout + proc.stderr


def status(cfg) -> tuple[int, list[str], dict]:
    text = run_newsmon("status", "--config", str(cfg))
    report = json.loads(run_newsmon("status", "--config", str(cfg), "--json").stdout)
    return text.returncode, [line[4:] for line in text.stdout.splitlines() if line.startswith("  ! ")], report


def events_of(out, run_id: int) -> list[tuple]:
    return [
        (e["type"], e["section"])
        for e in rows(out, "SELECT type, section FROM events WHERE run_id = ? ORDER BY seq", run_id)
    ]


def held(out) -> list[dict]:
    return rows(out, "SELECT * FROM section_states ORDER BY section")


def test_every_host_refusing_is_one_offline_condition(tmp_path):
    port_a, port_b, hook = free_port(), free_port(), WebhookReceiver().start()
    # A channel for one source only still hears about the crawler: the condition concerns every section.
    extra = (
        f'[alerts]\nretries = 0\n[[alerts.channels]]\nname = "ops"\nurl = "json://127.0.0.1:{hook.port}/n"\n'
        f'sections = ["alpha/*"]\nevents = ["crawler_offline", "crawler_online", "section_erroring", '
        f'"section_gone"]\n'
    )
    cfg, out = two_hosts_config(tmp_path, port_a, port_b, extra), tmp_path / "out"
    up: list[SiteServer] = []

    def start() -> list[SiteServer]:
        up[:] = [SiteServer(port_a).start(), SiteServer(port_b).start()]
        return up

    def stop() -> None:
        while up:
            up.pop().stop()

    try:
        a, b = start()
        serve(a, 1), serve(b, 1)
        cycle(cfg, 0)  # run 1: all answer
        assert sorted(events_of(out, 1)) == [
            ("section_appeared", s) for s in ("alpha/news", "alpha/world", "beta/feed")
        ]
        before = held(out)
        stop()  # both ports closed: refused
        cycle(cfg, 1)  # run 2: offline
        assert events_of(out, 2) == [] and held(out) == before  # pending counters untouched too
        code, attention, _ = status(cfg)
        assert code == 1 and len(attention) == 1, attention
        assert (
            attention[0].startswith("crawler offline since ")
            and "(1 run): every host failed at the network level (3 sections on 2 hosts: connection refused (3))"
            in attention[0]
        )
        cycle(cfg, 1)  # run 3: confirmed
        assert events_of(out, 3) == [("crawler_offline", None)] and held(out) == before
        cycle(cfg, 1)  # run 4: still
        assert events_of(out, 4) == [] and held(out) == before
        code, attention, report = status(cfg)
        assert code == 1 and len(attention) == 1 and "(3 runs): every host failed" in attention[0], attention
        assert [r["status"] for r in report["runs"]] == ["offline", "offline", "offline", "ok"]
        assert {s["state"] for s in report["sections"]} == {"active"}
        assert len(hook.posts) == 1 and hook.posts[0]["title"] == "newsmon: 1 crawler offline"
        assert "every host failed at the network level (2 consecutive runs" in hook.posts[0]["message"]

        a, b = start()  # the network is back
        serve(a, 2), serve(b, 2)
        cycle(cfg, 0)  # run 5
        assert events_of(out, 5)[0] == ("crawler_online", None)
        assert {t for t, _s in events_of(out, 5)} == {"crawler_online", "section_changed"}  # one new item each
        assert {(r["section"], r["state"], r["pending_state"]) for r in held(out)} == {
            ("alpha/news", "active", None),
            ("alpha/world", "active", None),
            ("beta/feed", "active", None),
        }
        code, attention, report = status(cfg)
        assert (code, attention, report["offline"]) == (0, [], None)
        assert len(hook.posts) == 2 and hook.posts[1]["title"] == "newsmon: 1 crawler back online"
        assert "\n• a run reached the network again (offline since " in hook.posts[1]["message"]
        logged = [json.loads(line) for line in (out / "alerts.jsonl").read_text("utf-8").splitlines()]
        assert [(e["type"], e["section"], e["source"]) for e in logged if e["type"].startswith("crawler_")] == [
            ("crawler_offline", None, None),
            ("crawler_online", None, None),
        ]
        listed = run_newsmon("alerts", "--config", str(cfg), "--type", "crawler_offline")
        assert listed.returncode == 0 and "crawler_offline" in listed.stdout and "1 event" in listed.stdout
    finally:
        stop()
        hook.stop()


def test_a_first_run_offline_is_one_line_not_one_per_section(tmp_path):
    cfg = two_hosts_config(tmp_path, free_port(), free_port())
    cycle(cfg, 1)
    code, attention, report = status(cfg)
    assert code == 1 and len(attention) == 1 and attention[0].startswith("crawler offline since "), attention
    assert {s["state"] for s in report["sections"]} == {"offline"}
    assert held(tmp_path / "out") == [] and rows(tmp_path / "out", "SELECT * FROM events") == []


def test_one_host_down_counts_against_its_own_sections(tmp_path):
    port_a, port_b = free_port(), free_port()
    cfg, out = two_hosts_config(tmp_path, port_a, port_b), tmp_path / "out"
    a = SiteServer(port_a).start()  # host B never answers: refused
    try:
        serve(a, 1)
        cycle(cfg, 1)
        cycle(cfg, 1)
    finally:
        a.stop()
    assert ("section_erroring", "beta/feed") in events_of(out, 2)
    assert not [e for e in rows(out, "SELECT type FROM events") if e["type"].startswith("crawler_")]
    conn = state.connect(out)
    try:
        assert offline.load(conn) == Connectivity(last_run_id=2)
    finally:
        conn.close()
    code, attention, _ = status(cfg)
    assert code == 1 and not [line for line in attention if "offline" in line]
    assert [line for line in attention if line.startswith("section beta/feed is erroring since ")], attention


def test_a_stage_rerun_folds_the_offline_run_once(tmp_path):
    """The lifecycle stage run twice for one offline run (a crash between it and the run's end): the
    connectivity row counts the run once and its event is not repeated."""
    from crawler.config import load_config
    from crawler.lifecycle.stage import settings_of, update_connectivity

    cfg = two_hosts_config(tmp_path, free_port(), free_port())
    config = load_config(cfg)
    crawl = {s.key: {"entry_error": f"{s.url}: connection refused by {s.url.split('/')[2]}"} for s in config.sections}
    conn = state.connect(config.output_dir)
    try:
        for run in (1, 2):
            conn.execute("INSERT INTO runs(id, started_at) VALUES (?, ?)", (run, f"2026-12-0{run}T02:00:00+00:00"))
        emitted = [update_connectivity(conn, config, run, crawl, settings_of(config)) for run in (1, 2, 2)]
        assert [(found.sections, types) for found, types in emitted] == [(3, []), (3, ["crawler_offline"]), (3, [])]
        st = offline.load(conn)
        assert (st.state, st.runs, st.since) == ("offline", 2, "2026-12-01T02:00:00+00:00")
        assert [r["type"] for r in conn.execute("SELECT type FROM events")] == ["crawler_offline"]
    finally:
        conn.close()
