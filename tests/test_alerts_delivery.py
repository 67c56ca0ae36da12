"""Delivery through Apprise to a real SMTP server and a real webhook receiver on loopback."""

import logging

import pytest

from crawler import jsonl, state
from crawler.alerts import stage as alerts
from crawler.config import load_config
from crawler.exceptions import ConfigError
from crawler.lifecycle import events
from crawler.lifecycle.events import Event
from tests.alerting import WebhookReceiver, rows, store_article, write_config

AT = "2026-11-02T02:00:00+00:00"
SECRET, TOKEN = "s3cr3tpass", "AbCdEf0123456789"


@pytest.fixture
def hook():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def channels(*tables):
    return "\n".join(f"[[alerts.channels]]\n{t}" for t in tables)


def setup(tmp_path, *tables, retries=1):
    cfg = write_config(
        tmp_path, "http://news.test", extra=f"[alerts]\nretries = {retries}\nretry_delay = 0.05\n{channels(*tables)}\n"
    )
    config = load_config(cfg)
    return config.output_dir, *alerts.settings_of(config)


def record(out, evs):
    conn = state.connect(out)
    try:
        events.record(conn, evs)
    finally:
        conn.close()


def process(out, table, chans):
    conn = state.connect(out)
    try:
        return alerts.process(conn, out, table, chans)
    finally:
        conn.close()


def sample_events(out, run_id=1):
    ident = store_article(
        out,
        run_id,
        "site/russia",
        "http://news.test/world/russia/1.html",
        "普京会见习近平",
        ["正文。"],
        at=AT,
        title_en="Putin meets Xi",
        lang="zh",
    )
    return [
        Event("section_gone", "site/politics", AT, run_id, "HTTP 404 (not found) (2 consecutive runs, since …)"),
        Event(
            "section_changed",
            "site/russia",
            AT,
            run_id,
            "1 new item: 普京会见习近平",
            {
                "count": 1,
                "items": [
                    {
                        "id": ident,
                        "url": "http://news.test/world/russia/1.html",
                        "title": "普京会见习近平",
                        "title_en": None,
                    }
                ],
            },
        ),
        Event(
            "article_edited",
            "site/russia",
            AT,
            run_id,
            "1 paragraph changed",
            {
                "url": "http://news.test/world/russia/1.html",
                "title": "普京会见习近平",
                "title_before": "普京会见习近平",
                "title_after": "普京会见习近平",
                "paragraphs": [
                    {"op": "replace", "old_index": 0, "new_index": 0, "old": ["正文。"], "new": ["新正文。"]}
                ],
            },
            article_id=ident,
        ),
    ]


def test_one_message_per_run_with_english_and_original_titles(tmp_path, smtp, hook):
    out, table, chans = setup(
        tmp_path,
        f'name = "desk"\nurl = "{smtp.url()}"',
        f'name = "ops"\nurl = "json://127.0.0.1:{hook.port}/hook"\nevents = ["section_gone", "section_reappeared"]',
    )
    record(out, sample_events(out))
    result = process(out, table, chans)
    assert result["deliveries"] == {"desk": "delivered 3", "ops": "delivered 1"}
    assert len(smtp.messages) == 1 and len(hook.posts) == 1
    mail = smtp.bodies()[0]
    assert "Putin meets Xi [original: 普京会见习近平]" in mail and "HTTP 404" in mail and "¶1 {+新+}正文。" in mail
    assert smtp.messages[0]["Subject"] == "newsmon: 1 section gone, 1 new item, 1 article edited"
    assert "HTTP 404" in hook.posts[0]["message"] and "Putin" not in hook.posts[0]["message"]
    assert [r["type"] for r in jsonl.read(out / "alerts.jsonl")] == [
        "section_gone",
        "section_changed",
        "article_edited",
    ]
    process(out, table, chans)  # nothing pending: nothing sent again
    assert len(smtp.messages) == 1 and len(hook.posts) == 1
    states = rows(out, "SELECT channel, status, COUNT(*) n FROM event_deliveries GROUP BY channel, status")
    assert states == [
        {"channel": "desk", "status": "delivered", "n": 3},
        {"channel": "ops", "status": "delivered", "n": 1},
    ]


def test_receiver_down_then_up_still_gets_the_event_and_secrets_never_reach_a_log(tmp_path, caplog):
    receiver = WebhookReceiver()  # not started: connection refused
    url = f"json://editor:{SECRET}@127.0.0.1:{receiver.port}/hook/{TOKEN}"
    out, table, chans = setup(tmp_path, f'name = "hook"\nurl = "{url}"', retries=2)
    caplog.set_level(logging.DEBUG)
    record(out, sample_events(out)[:1])
    result = process(out, table, chans)
    assert result["deliveries"]["hook"].startswith("undelivered 1")
    failed = rows(out, "SELECT status, attempts, last_error FROM event_deliveries")
    assert failed[0]["status"] == "undelivered" and failed[0]["attempts"] == 3
    assert any("delivery to hook" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)

    receiver.start()
    try:
        record(out, [Event("section_reappeared", "site/politics", AT, 2, "12 article links found again")])
        result = process(out, table, chans)
    finally:
        receiver.stop()
    assert result["deliveries"]["hook"] == "delivered 2"
    assert len(receiver.posts) == 1
    body = receiver.posts[0]["message"]
    assert "HTTP 404" in body and "links found again" in body and "sent again" in body
    assert rows(out, "SELECT DISTINCT status FROM event_deliveries") == [{"status": "delivered"}]
    logged = caplog.text + "".join(str(r.get("last_error")) for r in failed)
    assert SECRET not in logged and TOKEN not in logged
    assert "127.0.0.1" in logged  # the logs still say where it went


def test_channel_filters_by_section(tmp_path, hook):
    out, table, chans = setup(
        tmp_path, f'name = "ru"\nurl = "json://127.0.0.1:{hook.port}/"\nsections = ["site/russia"]'
    )
    record(out, sample_events(out))
    process(out, table, chans)
    assert len(hook.posts) == 1 and "site/politics" not in hook.posts[0]["message"]
    assert "2 events" in hook.posts[0]["message"]


@pytest.mark.parametrize(
    "channel, message",
    [
        ('url = "json://x/"\nevents = ["section_exploded"]', r"events: unknown event type\(s\) \['section_exploded'\]"),
        ('url_env = "NEWSMON_TEST_UNSET_URL"', "NEWSMON_TEST_UNSET_URL is not set"),
        ('name = "x"', "needs url"),
        ('url = "json://x/"\ncolour = "red"', "colour: unknown key"),
    ],
)
def test_bad_channel_config_is_one_clear_error(tmp_path, channel, message):
    with pytest.raises(ConfigError, match=message):
        setup(tmp_path, channel)


@pytest.mark.parametrize(
    "url, secret",
    [
        ("slack://T1234ABCD/B5678EFGH/abcdefghijklmnopqrstuvwx/#newsroom", "abcdefghijklmnopqrstuvwx"),
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100987654321", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        ("mailtos://newsmon:app-password@smtp.example.org?to=desk@example.org", "app-password"),
        ("matrixs://bot:hunter22@matrix.example.org/#newsroom:example.org", "hunter22"),
        ("jsons://hooks.example.org/newsmon?token=0123456789abcdef", "0123456789abcdef"),
    ],
)
def test_display_masks_the_secret_of_common_channel_urls(url, secret):
    from crawler.alerts import redact

    shown = redact.display(url)
    assert secret not in shown and redact.MASK in shown


def test_a_long_run_is_one_message_with_the_rest_counted():
    from crawler.alerts.message import compose

    pending = [
        {
            "id": str(n),
            "type": "section_gone",
            "run_id": 7,
            "section": f"s/{n}",
            "cause": "HTTP 404",
            "details": {},
            "article_id": None,
        }
        for n in range(60)
    ]
    title, body = compose(pending, {}, "newsmon", limit=50)
    assert title == "newsmon: 60 sections gone"
    assert body.count("• s/") == 50 and "… and 10 more events" in body and body.startswith("60 events from run 7")
