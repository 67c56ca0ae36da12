"""`newsmon alerts` as a user runs it (real CLI in a subprocess, real state DB)."""

import json

from crawler import state
from crawler.lifecycle import events
from crawler.lifecycle.events import Event


def seed(out):
    conn = state.connect(out)
    try:
        events.record(
            conn,
            [
                Event("section_gone", "site/russia", "2026-11-01T02:00:00+00:00", 1, "HTTP 404 (not found)"),
                Event(
                    "article_edited",
                    "site/russia",
                    "2026-11-02T02:00:00+00:00",
                    2,
                    "title changed",
                    {"url": "http://x/1"},
                    article_id="abc",
                ),
                Event("section_reappeared", "site/russia", "2026-11-03T02:00:00+00:00", 3, "5 links found again"),
            ],
        )
        conn.execute(
            "INSERT INTO event_deliveries(event_id, channel, status) SELECT id, 'desk', 'undelivered' "
            "FROM events WHERE type = 'section_gone'"
        )
    finally:
        conn.close()


def test_lists_filters_and_prints_json(tmp_path, newsmon):
    out = tmp_path / "output"
    seed(out)
    proc = newsmon("alerts", "--output", str(out), check=True)
    lines = proc.stdout.splitlines()
    assert lines[-1] == "3 events" and "section_gone" in lines[0] and "[desk: undelivered]" in lines[0]
    proc = newsmon("alerts", "--output", str(out), "--since", "2026-11-02", "--type", "section_reappeared", check=True)
    assert "section_reappeared" in proc.stdout and "article_edited" not in proc.stdout
    proc = newsmon("alerts", "--output", str(out), "--json", "--type", "article_edited", check=True)
    objs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["type"] for o in objs] == ["article_edited"] and objs[0]["article_id"] == "abc"


def test_bad_since_is_one_clear_line_and_empty_output_is_not_created(tmp_path, newsmon):
    out = tmp_path / "nothing-here"
    proc = newsmon("alerts", "--output", str(out), "--since", "yesterday")
    assert proc.returncode == 2 and "--since 'yesterday'" in proc.stderr and "Traceback" not in proc.stderr
    proc = newsmon("alerts", "--output", str(out), check=True)
    assert proc.stdout == "no events\n" and not out.exists()


def test_deliver_sends_what_is_pending_and_says_so(tmp_path, newsmon):
    from tests.alerting import WebhookReceiver, write_config

    receiver = WebhookReceiver()
    cfg = write_config(
        tmp_path,
        "http://news.test",
        extra=(
            f'[alerts]\nretries = 0\n[[alerts.channels]]\nname = "hook"\nurl = "json://127.0.0.1:{receiver.port}/"\n'
        ),
    )
    seed(tmp_path / "output")
    proc = newsmon("alerts", "--deliver", "--config", str(cfg))
    assert proc.returncode == 1 and proc.stdout.startswith("hook: undelivered 3")
    receiver.start()
    try:
        proc = newsmon("alerts", "--deliver", "--config", str(cfg), check=True)
    finally:
        receiver.stop()
    assert proc.stdout == "hook: delivered 3\n" and len(receiver.posts) == 1


def test_deliver_never_runs_beside_a_cycle(tmp_path, newsmon):
    from crawler.ops.lock import CycleLock
    from tests.alerting import rows, write_config

    cfg = write_config(
        tmp_path, "http://news.test", extra='[[alerts.channels]]\nname = "hook"\nurl = "json://127.0.0.1:9/"\n'
    )
    seed(tmp_path / "output")
    with CycleLock(tmp_path / "output"):
        proc = newsmon("alerts", "--deliver", "--config", str(cfg))
    assert proc.returncode == 2 and "its alerts stage sends pending events itself" in proc.stderr
    assert not rows(tmp_path / "output", "SELECT 1 FROM event_deliveries WHERE channel = 'hook'")


def test_on_a_terminal_good_news_is_green_and_trouble_red(tmp_path):
    """The listing colours section events by what they mean (a section back is good news); off a terminal
    (a pipe, a file) it writes no colour codes."""
    import io

    from crawler.alerts import listing

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = tmp_path / "output"
    seed(out)
    found = listing.query(out)
    screen = Terminal()
    listing.show(found, out=screen)
    gone, edited, back = screen.getvalue().splitlines()[:3]
    assert "\x1b[31msection_gone" in gone and "\x1b[32msection_reappeared" in back
    assert "\x1b[" not in edited  # an article event: no section state to colour
    piped = io.StringIO()
    listing.show(found, out=piped)
    assert "\x1b[" not in piped.getvalue()
