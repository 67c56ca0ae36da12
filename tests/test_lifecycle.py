"""The section state machine as a pure function: sequences of snapshots → states and events (milliseconds)."""

from datetime import UTC, datetime, timedelta

import pytest

from crawler.lifecycle.machine import SectionState, Settings, Snapshot, step

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
URL = "http://site.test/world/russia/"
HOME = "http://site.test/"
RULE = "css 'div.item a'"


def snap(run, *, hours=None, **kw):
    at = (T0 + timedelta(hours=24 * (run - 1) if hours is None else hours)).isoformat()
    base = dict(
        section="site/russia",
        run_id=run,
        at=at,
        url=URL,
        http_status=200,
        page_bytes=40_000,
        links_found=20,
        link_rule=RULE,
        homepage=HOME,
    )
    base.update(kw)
    return Snapshot(**base)


def ok(run, new=0, **kw):
    items = tuple({"id": f"i{run}-{n}", "url": f"{URL}{run}-{n}.html", "title": f"Title {run}.{n}"} for n in range(new))
    return snap(run, new_items=items, **kw)


def play(snaps, cfg=Settings(), state=None):
    st = state or SectionState("site/russia")
    out = []
    for s in snaps:
        st, events = step(st, s, cfg)
        out.extend((s.run_id, e.type, e.cause) for e in events)
    return st, out


def types(events):
    return [(run, kind) for run, kind, _ in events]


def test_first_sight_appears_without_a_changed_event():
    st, events = play([ok(1, new=20)])
    assert types(events) == [(1, "section_appeared")]
    assert st.state == "active" and "20 article links" in events[0][2]


def test_gone_for_two_runs_then_back_with_new_items():
    runs = [
        ok(1, 5),
        ok(2, 1),
        snap(3, http_status=404, links_found=0),
        snap(4, http_status=404, links_found=0),
        ok(5, 2),
    ]
    st, events = play(runs)
    assert types(events) == [
        (1, "section_appeared"),
        (2, "section_changed"),
        (4, "section_gone"),
        (5, "section_reappeared"),
        (5, "section_changed"),
    ]
    cause = dict(((r, k), c) for r, k, c in events)
    assert "HTTP 404" in cause[(4, "section_gone")] and "2 consecutive runs" in cause[(4, "section_gone")]
    assert "was gone" in cause[(5, "section_reappeared")]
    assert cause[(5, "section_changed")].startswith("2 new items: Title 5.0; Title 5.1")


@pytest.mark.parametrize(
    "bad",
    [
        dict(http_status=500, links_found=0),
        dict(http_status=None, error="timeout after 30 s", links_found=0),
        dict(http_status=404, links_found=0),
        dict(links_found=0, page_bytes=41_000),
    ],
)
def test_one_bad_night_never_alerts(bad):
    st, events = play([ok(1, 3), snap(2, **bad), ok(3)])
    assert types(events) == [(1, "section_appeared")]
    assert st.state == "active" and st.pending_count == 0


def test_hysteresis_is_configurable():
    bad = [snap(r, http_status=503, links_found=0) for r in (2, 3, 4)]
    _, events = play([ok(1, 1), *bad], Settings(hysteresis_runs=3))
    assert types(events) == [(1, "section_appeared"), (4, "section_erroring")]
    _, events = play([ok(1, 1), *bad[:1]], Settings(hysteresis_runs=1))
    assert types(events)[-1] == (2, "section_erroring")


def test_layout_change_is_broken_and_names_the_rule():
    _, events = play([ok(1, 3), snap(2, links_found=0, page_bytes=39_000), snap(3, links_found=0, page_bytes=39_500)])
    assert types(events)[-1] == (3, "section_broken")
    assert RULE in events[-1][2] and "layout" in events[-1][2]


def test_a_page_that_shrank_and_lists_nothing_is_empty():
    _, events = play([ok(1, 3), snap(2, links_found=0, page_bytes=3_000), snap(3, links_found=0, page_bytes=2_900)])
    assert types(events)[-1] == (3, "section_empty")
    assert "lists no articles" in events[-1][2]


def test_redirect_to_homepage_and_dns_failure_are_gone():
    _, events = play(
        [ok(1, 1), snap(2, final_url=HOME, links_found=0), snap(3, final_url=HOME + "index.html", links_found=0)]
    )
    assert types(events)[-1] == (3, "section_gone") and "redirected to the homepage" in events[-1][2]
    _, events = play(
        [ok(1, 1), *(snap(r, http_status=None, links_found=0, error="DNSLookupError: no such host") for r in (2, 3))]
    )
    assert types(events)[-1] == (3, "section_gone") and "DNS lookup failed" in events[-1][2]


def test_trivial_redirect_is_not_a_move():
    st, events = play(
        [
            ok(1, 1),
            ok(2, 0, final_url=URL.replace("http:", "https:").rstrip("/")),
            ok(3, 0, final_url="http://www.site.test/world/russia"),
        ]
    )
    assert types(events) == [(1, "section_appeared")] and st.state == "active"


def test_not_modified_keeps_the_state_and_adds_nothing():
    st, events = play(
        [
            ok(1, 3),
            snap(2, http_status=304, not_modified=True, links_found=20),
            snap(3, http_status=304, not_modified=True, links_found=20),
        ]
    )
    assert types(events) == [(1, "section_appeared")] and st.state == "active"


def test_stale_after_the_learnt_cadence_fires_once():
    runs = [ok(n, 1, hours=6 * (n - 1)) for n in range(1, 6)]  # a new item every 6 h
    quiet = [ok(n, 0, hours=6 * (n - 1)) for n in range(6, 12)]  # then silence
    _, events = play(runs + quiet, Settings(stale_factor=3.0, stale_min_hours=1))
    stale = [e for e in events if e[1] == "section_stale"]
    assert len(stale) == 1
    run, _, cause = stale[0]
    assert run == 9  # 24 h > 3 × 6 h; 18 h is not
    assert "usually come every 6.0 hours" in cause and "no new item for 24.0 hours" in cause
    _, again = play(
        [ok(12, 1, hours=66), ok(13, 0, hours=200)],
        Settings(stale_min_hours=1),
        state=play(runs + quiet, Settings(stale_factor=3.0, stale_min_hours=1))[0],
    )
    assert [k for _, k, _ in again] == ["section_changed", "section_stale"]  # a new quiet spell re-arms it


def test_configured_cadence_overrides_learning():
    _, events = play([ok(1, 1, hours=0), ok(2, 0, hours=10, cadence_hours=8)])
    assert types(events)[-1] == (2, "section_stale") and "cadence_hours = 8" in events[-1][2]


def test_section_that_never_answered_is_gone_then_appears():
    _, events = play([snap(r, http_status=404, links_found=0) for r in (1, 2)] + [ok(3, 4)])
    assert types(events) == [(2, "section_gone"), (3, "section_appeared")]


def test_event_ids_are_stable_per_run():
    _, a = step(SectionState("site/russia"), ok(1, 2))
    _, b = step(SectionState("site/russia"), ok(1, 2))
    assert a[0].id == b[0].id and a[0].to_json()["source"] == "site"


def test_a_malformed_feed_is_broken_and_an_empty_body_is_empty():
    bad = dict(links_found=0, page_bytes=812, error="malformed feed: not well-formed XML: line 3")
    _, events = play([ok(1, 1), snap(2, **bad), snap(3, **bad)])
    assert types(events)[-1] == (3, "section_broken") and "not well-formed XML" in events[-1][2]
    _, events = play([ok(1, 1), *(snap(r, links_found=0, page_bytes=0, error="empty page") for r in (2, 3))])
    assert types(events)[-1] == (3, "section_empty")


def test_not_modified_repeats_the_verdict_on_the_last_full_page():
    broken = dict(links_found=0, page_bytes=39_000)
    same = dict(http_status=304, not_modified=True, links_found=0, page_bytes=0)
    st, events = play([ok(1, 3), snap(2, **broken), snap(3, **same), snap(4, **same)])
    assert types(events) == [(1, "section_appeared"), (3, "section_broken")] and st.state == "broken"
    assert "not modified since" in st.cause
