"""End to end: `newsmon run` over recorded pages on loopback writes the day's digest and feeds search."""

from __future__ import annotations

from pathlib import Path

from tests import digestkit
from tests.recorded import recorded
from tests.sitesrv import Route, page, write_loopback_config

PD_PATH = "/n1/2024/0424/c1001-40223222.html"
KREMLIN_PATH = "/events/president/news/63953"


def listing(links: list[str]) -> Route:
    items = "".join(f'<li class="item"><a href="{href}">story</a></li>' for href in links)
    return Route(f"<html><body><ul>{items}</ul></body></html>".encode())


def write_config(tmp: Path, base: str) -> Path:
    def listed(ident: str, path: str) -> dict:
        return {"id": ident, "kind": "listing", "url": f"{base}{path}", "link_css": "li.item a"}

    politics = {**listed("politics", "/politics/"), "name": "Politics"}
    return write_loopback_config(
        tmp / "newsmon.toml",
        [
            {"id": "people", "name": "People's Daily", "sections": [politics]},
            {"id": "kremlin", "name": "Kremlin", "sections": [listed("news", "/news/"), listed("gone", "/gone/")]},
        ],
        crawler={"output_dir": str(tmp / "output"), "timeout": 5},
    )


def test_a_real_run_writes_the_digest_and_feeds_search(tmp_path, site_server, newsmon):
    site_server.routes.update(
        {
            "/politics/": listing([PD_PATH]),
            PD_PATH: page(recorded(digestkit.PAGES["pd"][2])),
            "/news/": listing([KREMLIN_PATH]),
            KREMLIN_PATH: page(recorded(digestkit.PAGES["kremlin"][2])),
        }
    )  # /gone/ is not served: 404
    cfg = write_config(tmp_path, site_server.url)
    proc = newsmon("run", "--config", str(cfg), timeout=60)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "stage crawler.digest.stage failed" not in proc.stdout, proc.stdout

    out = tmp_path / "output"
    digests = list(out.glob("*/digest.txt"))
    assert len(digests) == 1, proc.stdout + proc.stderr
    text = digests[0].read_text(encoding="utf-8")
    lines = text.splitlines()
    assert any(line.startswith("!! FAILED") and "kremlin/gone" in line and "404" in line for line in lines)
    header = next(line for line in lines if "促进航天技术更好惠及人民" in line and " | people | politics | " in line)
    assert header.startswith("2024-04-24 | people | politics | zh | ")
    assert f"{site_server.url}{PD_PATH}" in header
    assert any(line.startswith("2020-08-27 | kremlin | news | en | EN: Launching motor traffic") for line in lines)
    assert "### people/politics — People's Daily › Politics (1) ###" in lines
    assert (digests[0].parent / "digest.html").stat().st_size > 5000

    hit = newsmon("search", "航天合作", "--config", str(cfg), check=True)
    assert hit.stdout.startswith("1 hit") and "people/politics" in hit.stdout
    assert newsmon("search", "Taurida", "--config", str(cfg), check=True).stdout.startswith("1 hit")
