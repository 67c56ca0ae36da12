"""Section subject: the share of a run's new items that mention the section's subject
(crawler/lifecycle/subject.py), its hysteresis, and the rows over a real state DB (subjectdb.py)."""

from contextlib import closing

import pytest

from crawler import state
from crawler.config import load_config
from crawler.exceptions import ConfigError
from crawler.lifecycle import subjectdb
from crawler.lifecycle.stage import subject_settings_of
from crawler.lifecycle.subject import OFF, ON, SubjectSettings, SubjectState, judge, measure, step

pytestmark = pytest.mark.usefixtures("state_backend")  # every test on SQLite and on PostgreSQL

CFG = SubjectSettings()
KEY = "peoples-daily/russia"
PHRASES = ("俄罗斯", "普京", "Russia*", "Росси*")
RUSSIA = {"title": "普京会见中国外长", "text": "俄罗斯总统普京在莫斯科会见……"}
ENGLISH_ONLY = {
    "title": "外长会谈",
    "text": "双方讨论了合作。",
    "title_en": "Foreign ministers talk",
    "text_en": "The sides discussed cooperation with Russian partners.",
}
WORLD = [
    {
        "title": f"巴西总统访问阿根廷 {n}",
        "title_en": f"Brazil's president visits Argentina {n}",
        "text": "两国元首举行会谈。",
    }
    for n in range(10)
]


def run_of(n, on, off):
    items = [RUSSIA] * on + WORLD[:off]
    return measure(KEY, n, f"2026-11-{n:02d}T02:00:00+00:00", items, PHRASES)


def test_an_item_is_on_subject_through_its_original_or_its_translation_on_word_boundaries():
    assert run_of(1, 2, 3).on_subject == 2
    assert measure(KEY, 1, "t", [ENGLISH_ONLY], PHRASES).on_subject == 1  # "Russian" via Russia*
    assert measure(KEY, 1, "t", [{"title": "Prussian army"}], PHRASES).on_subject == 0  # word boundary
    assert measure(KEY, 1, "t", [{"text": "Визит в Россию"}], PHRASES).on_subject == 1


def test_off_subject_below_the_share_with_the_cause_in_words():
    history = [run_of(2, 6, 1), run_of(1, 7, 0)]
    verdict = judge(run_of(3, 2, 8), history, PHRASES, CFG)
    assert verdict.state == "off"
    assert verdict.cause == (
        "2 of 10 new items mention the section's subject (俄罗斯, 普京, Russia*, …); "
        "usually 13 of 14 over the last 2 runs — e.g. '巴西总统访问阿根廷 0' "
        "(Brazil's president visits Argentina 0), '巴西总统访问阿根廷 1' "
        "(Brazil's president visits Argentina 1)"
    )


def test_threshold_and_minimum_items():
    # 3 of 10 is the share itself: on subject; 2 of 10 below it.
    assert judge(run_of(1, 3, 7), [], PHRASES, CFG).state == "on"
    assert judge(run_of(1, 2, 8), [], PHRASES, CFG).state == "off"
    few = judge(run_of(1, 0, CFG.health_min_items - 1), [], PHRASES, CFG)
    assert few.state is None and "fewer than health_min_items = 3" in few.cause
    assert "usually" not in judge(run_of(1, 0, 5), [], PHRASES, CFG).cause  # no history: no "usually"


def fold(verdicts_of_runs):
    st, emitted = SubjectState(KEY), []
    for n, (on, off) in enumerate(verdicts_of_runs, 1):
        run = run_of(n, on, off)
        st, evs = step(st, run, judge(run, [], PHRASES, CFG), PHRASES, CFG)
        emitted += [(n, e.type, e.cause) for e in evs]
    return st, emitted


def test_hysteresis_two_off_runs_alert_once_one_does_not_and_one_on_run_clears():
    st, emitted = fold([(5, 0), (0, 5), (5, 0), (0, 5), (1, 0), (0, 5), (0, 5), (4, 1)])
    # run 2 alone: nothing; run 5 (too few items) neither counts nor breaks 4 → 6; run 7: still off, no repeat.
    assert [(n, kind) for n, kind, _ in emitted] == [(6, OFF), (8, ON)]
    assert emitted[0][2].endswith("(2 consecutive runs, since 2026-11-04T02:00:00+00:00)")
    assert "(off subject since 2026-11-04T02:00:00+00:00: 0 of 5 new items" in emitted[1][2]
    assert st.state == "on" and st.pending_count == 0


def test_hysteresis_runs_one_alerts_at_once():
    cfg = SubjectSettings(hysteresis_runs=1)
    run = run_of(1, 0, 4)
    st, evs = step(SubjectState(KEY), run, judge(run, [], PHRASES, cfg), PHRASES, cfg)
    assert st.state == "off" and [e.type for e in evs] == [OFF]
    assert evs[0].details["measured"] == {"items": 4, "on_subject": 0, "share": 0.0}
    assert evs[0].details["subject"] == list(PHRASES)


def test_rows_survive_reconnects_and_history_skips_off_runs(tmp_path):
    with closing(state.connect(tmp_path)) as conn:
        for n, (on, off) in enumerate([(5, 0), (0, 5), (0, 5)], 1):
            run = run_of(n, on, off)
            verdict = judge(run, subjectdb.history(conn, KEY, n, CFG.health_runs), PHRASES, CFG)
            new, _ = step(subjectdb.load_state(conn, KEY), run, verdict, PHRASES, CFG)
            subjectdb.save_run(conn, run, verdict, new.state)
            subjectdb.save_state(conn, new)
    with closing(state.connect(tmp_path)) as conn:
        assert list(subjectdb.off_subject_sections(conn)) == [KEY]
        assert [r.run_id for r in subjectdb.history(conn, KEY, 4, 5)] == [1]
        assert subjectdb.off_subject_in_runs(conn, {3}).get(KEY, "").startswith("0 of 5 new items")
        assert subjectdb.off_subject_in_runs(conn, {1}) == {}


def write(tmp_path, section_lines, lifecycle=""):
    path = tmp_path / "newsmon.toml"
    path.write_text(
        "replace_default_sources = true\n" + lifecycle + '[[sources]]\nid = "pd"\n'
        '[[sources.sections]]\nid = "russia"\nkind = "feed"\nurl = "http://127.0.0.1/r.xml"\n' + section_lines,
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "value, problem",
    [
        ('["Russia**"]', "only one trailing * is supported"),
        ("[]", "expected a non-empty list of phrases"),
        ('["俄罗斯", ""]', "expected non-empty strings"),
        ('"Russia"', "expected list"),
    ],
)
def test_a_bad_subject_is_named_at_its_line(tmp_path, value, problem):
    path = write(tmp_path, f'languages = ["zh"]\nsubject = {value}\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}:9: sources[pd].sections[russia].subject")
    assert problem in str(err.value)


def test_subject_is_carried_on_the_section_and_min_share_validated(tmp_path):
    config = load_config(write(tmp_path, 'subject = ["Russia*", " 俄罗斯 "]\n'))
    assert config.sections[0].subject == ("Russia*", "俄罗斯")
    assert subject_settings_of(config).subject_min_share == 0.3
    bad = load_config(write(tmp_path, "", lifecycle="[lifecycle]\nsubject_min_share = 1.5\n"))
    with pytest.raises(ConfigError, match=r"newsmon.toml:3: \[lifecycle\] subject_min_share: must be ≤ 1"):
        subject_settings_of(bad)
