"""How a run ends: the status recorded in the runs table and the exit status of `newsmon run`.

Real `newsmon run` cycles against loopback servers: an offline run (every port closed) is recorded
``offline``, not ``failed``, and exits 1; a run whose section answered but whose every link was skipped
(off the section's site, beyond max_links) is ``ok`` and exits 0, as a run with no new link does.
"""

from __future__ import annotations

from crawler.localsite import Route, SiteServer, write_loopback_config
from tests.alerting import article_page, free_port, listing_page, rows
from tests.conftest import run_newsmon

PARAS = [
    "The delegation arrived on Monday for two days of talks on energy supplies and regional security.",
    "Officials said the talks would also prepare a summit planned for the spring in the capital.",
]


def config(tmp_path, port: int, **section):
    url = f"http://127.0.0.1:{port}"
    sources = [
        {
            "id": "alpha",
            "name": "Alpha",
            "homepage": f"{url}/",
            "sections": [{"id": "news", "kind": "listing", "url": f"{url}/news/", "link_css": "div.item a", **section}],
        }
    ]
    return write_loopback_config(
        tmp_path / "newsmon.toml",
        sources,
        crawler={"output_dir": str(tmp_path / "out"), "timeout": 5},
        lifecycle={"recheck_max": 0},
    )


def last_run(out) -> str:
    return rows(out, "SELECT status FROM runs ORDER BY id DESC LIMIT 1")[0]["status"]


def test_an_offline_run_is_recorded_offline_and_exits_1(tmp_path):
    cfg = config(tmp_path, free_port())  # nothing listens: connection refused
    proc = run_newsmon("run", "--config", str(cfg), timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert last_run(tmp_path / "out") == "offline"


def test_a_run_with_every_link_skipped_is_ok_and_exits_0(tmp_path):
    server = SiteServer().start()
    try:
        links = [("http://elsewhere.example/a.html", "Elsewhere"), ("mailto:desk@example.org", "Mail")]
        server.routes["/news/"] = Route(listing_page(links))
        cfg = config(tmp_path, server.port)
        proc = run_newsmon("run", "--config", str(cfg), timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert last_run(tmp_path / "out") == "ok"
        assert "skipped" in proc.stdout and "partial" in proc.stdout

        # beyond max_links: the first run takes one link, the second the other; both ok
        server.routes["/news/"] = Route(listing_page([("/news/1.html", "One"), ("/news/2.html", "Two")]))
        for n in (1, 2):
            server.routes[f"/news/{n}.html"] = Route(article_page(f"Story {n}", PARAS))
        cfg = config(tmp_path, server.port, max_links=1)
        for _ in range(2):
            proc = run_newsmon("run", "--config", str(cfg), timeout=120)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert last_run(tmp_path / "out") == "ok"
        assert len(rows(tmp_path / "out", "SELECT id FROM items")) == 2
    finally:
        server.stop()
