"""The day's digest sent to `digest = true` channels: a real `newsmon run` mailing a real SMTP server on loopback,
a webhook receiver down then up, and `newsmon sources check` on a bad value."""

from __future__ import annotations

import logging
import re

from crawler import state
from crawler.config import load_config
from crawler.digest import mail
from crawler.digest import stage as digest
from tests import digestkit
from tests.alerting import WebhookReceiver, rows, store_article, write_config
from tests.recorded import recorded
from tests.sitesrv import page, write_loopback_config
from tests.test_digest_e2e import KREMLIN_PATH, PD_PATH, listing

DAY, NEXT_DAY = "2026-11-01", "2026-11-02"
TOKEN = "AbCdEf0123456789"


def run_config(tmp, site, smtp, hook) -> str:
    def listed(ident: str, path: str) -> dict:
        return {"id": ident, "kind": "listing", "url": f"{site.url}{path}", "link_css": "li.item a"}

    channels = (
        f'[[alerts.channels]]\nname = "editors"\nurl = "{smtp.url()}"\ndigest = true\n'
        f'[[alerts.channels]]\nname = "ops"\nurl = "json://127.0.0.1:{hook.port}/hook"\n'
    )
    return str(
        write_loopback_config(
            tmp / "newsmon.toml",
            [
                {"id": "people", "name": "People's Daily", "sections": [listed("politics", "/politics/")]},
                {"id": "kremlin", "name": "Kremlin", "sections": [listed("news", "/news/")]},
            ],
            crawler={"output_dir": str(tmp / "output"), "timeout": 5},
            alerts={"retries": 0},
            extra=channels,
        )
    )


def digest_mails(smtp) -> list:
    """The digest mails among the alert mails the same channel also gets."""
    return [m for m in smtp.messages if m["Subject"].startswith("newsmon digest ")]


def test_a_run_mails_the_digest_once_and_again_only_when_the_day_gained_items(tmp_path, site_server, smtp, newsmon):
    hook = WebhookReceiver().start()
    try:
        site_server.routes.update(
            {"/politics/": listing([PD_PATH]), PD_PATH: page(recorded(digestkit.PAGES["pd"][2])), "/news/": listing([])}
        )
        cfg = run_config(tmp_path, site_server, smtp, hook)
        first = newsmon("run", "--config", cfg, timeout=60)
        assert "Traceback" not in first.stderr, first.stderr
        assert len(digest_mails(smtp)) == 1, first.stdout + first.stderr
        mail_ = digest_mails(smtp)[0]
        assert re.fullmatch(r"newsmon digest \d{4}-\d\d-\d\d: 1 items, \d+ alerts", mail_["Subject"]), mail_["Subject"]
        html = mail_.get_body(preferencelist=("html",)).get_content()
        assert "促进航天技术更好惠及人民" in html and html.lstrip().lower().startswith("<!doctype html")
        assert all("digest" not in post.get("title", "") for post in hook.posts)  # no `digest`: none

        newsmon("run", "--config", cfg, timeout=60, check=True)  # nothing new: nothing sent
        assert len(digest_mails(smtp)) == 1

        site_server.routes.update(
            {"/news/": listing([KREMLIN_PATH]), KREMLIN_PATH: page(recorded(digestkit.PAGES["kremlin"][2]))}
        )
        newsmon("run", "--config", cfg, timeout=60, check=True)  # the day gained an item
        assert len(digest_mails(smtp)) == 2 and ": 2 items, " in digest_mails(smtp)[1]["Subject"]
        assert "Launching motor traffic" in digest_mails(smtp)[1].get_body(preferencelist=("html",)).get_content()
    finally:
        hook.stop()
    sent = rows(tmp_path / "output", "SELECT channel, status, items, attempts FROM digest_deliveries")
    assert sent == [{"channel": "editors", "status": "delivered", "items": 2, "attempts": 2}]


def deliver(out, config, day):
    conn = state.connect(out)
    try:
        return mail.deliver(conn, config, out, day, digest.build(out, day, config, conn=conn))
    finally:
        conn.close()


def test_a_receiver_down_gets_the_digest_on_the_next_run_even_the_next_day(tmp_path, caplog):
    receiver = WebhookReceiver()  # not started: connection refused
    url = f"json://127.0.0.1:{receiver.port}/hook/{TOKEN}?format=text"  # a text-only target
    config = load_config(
        write_config(
            tmp_path,
            "http://news.test",
            extra=(
                f'[alerts]\nretries = 1\nretry_delay = 0.01\n[[alerts.channels]]\nname = "desk"\nurl = "{url}"\n'
                "digest = true\n"
            ),
        )
    )
    out = config.output_dir
    store_article(
        out,
        1,
        "site/russia",
        "http://news.test/world/russia/1.html",
        "普京会见习近平",
        ["正文。"],
        at=f"{DAY}T02:00:00+00:00",
        title_en="Putin meets Xi",
        lang="zh",
    )
    caplog.set_level(logging.DEBUG)
    assert deliver(out, config, DAY)["desk"].startswith("undelivered: ")
    failed = rows(out, "SELECT status, attempts, last_error FROM digest_deliveries")
    assert failed[0]["status"] == "undelivered" and failed[0]["attempts"] == 2
    assert TOKEN not in caplog.text + str(failed[0]["last_error"]) and "127.0.0.1" in caplog.text

    receiver.start()
    try:
        outcomes = deliver(out, config, NEXT_DAY)  # the day turned: yesterday's still goes out
        assert outcomes == {f"desk {DAY}": "delivered", "desk": "delivered"}
        assert deliver(out, config, NEXT_DAY) == {"desk": "already sent"}
    finally:
        receiver.stop()
    first = receiver.posts[0]
    assert first["title"] == f"newsmon digest {DAY}: 1 items, 0 alerts"
    assert "Putin meets Xi" in first["message"] and "普京会见习近平" in first["message"]  # text
    assert "<html" not in first["message"].lower()
    assert receiver.posts[1]["title"] == f"newsmon digest {NEXT_DAY}: 0 items, 0 alerts"


def test_sources_check_names_a_bad_digest_value(tmp_path, newsmon):
    cfg = write_config(
        tmp_path,
        "http://news.test",
        extra='[[alerts.channels]]\nname = "desk"\nurl = "json://127.0.0.1/"\ndigest = "yes"\n',
    )
    proc = newsmon("sources", "check", "--config", str(cfg))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "[[alerts.channels]] #1.digest: expected bool, got str 'yes'" in proc.stderr, proc.stderr
