"""A link rule that cannot be evaluated: ``newsmon sources check`` names every bad CSS selector and XPath with its
``file:line`` (and every other problem of the file in the same pass); a real ``newsmon run`` against a loopback
site marks the section ``error`` with the rule's message, prints no traceback, exits 1, and the lifecycle
records the section as broken."""

from __future__ import annotations

import pytest

from crawler import state
from crawler.config import ConfigProblems, load_config
from crawler.crawl.links import selector_problem
from crawler.localsite import Route, SiteServer, write_loopback_config
from tests.alerting import article_page, listing_page
from tests.conftest import run_newsmon

# The user file below, line by line: what each bad key's line is.
BAD_FILE = """\
replace_default_sources = true
[[sources]]
id = "site"
[[sources.sections]]
id = "by-css"
kind = "listing"
url = "http://127.0.0.1:9/news/"
link_css = "li a[href"
[[sources.sections]]
id = "by-xpath"
kind = "listing"
url = "http://127.0.0.1:9/world/"
link_xpath = "//a[@href"
next_css = "a.next::attr(href"
cron = "61 2 * * *"
[[sources.sections]]
id = "Bad Id"
kind = "feed"
url = "http://127.0.0.1:9/feed"
[[sources.sections]]
id = "wrong"
kind = "rss"
link_xpath = "//a[@href]]"
url = "ftp://127.0.0.1/x"
max_pages = 0
"""


@pytest.mark.parametrize(
    "kind, rule, why",
    [
        ("css", "li a[href", "Operator expected"),
        ("xpath", "//a[@href", "Invalid predicate"),
        ("css", "a::attr(href", "Expected an argument"),
        ("xpath", "//x:a", "Undefined namespace prefix"),
    ],
)
def test_a_rule_parsel_cannot_evaluate_is_named_with_why(kind, rule, why):
    problem = selector_problem(kind, rule)
    assert problem is not None and rule in problem and why in problem


@pytest.mark.parametrize(
    "kind, rule",
    [
        ("css", "h3.hentry__title a[rel=bookmark]"),
        ("css", "a::attr(href)"),
        ("xpath", "//a/@href"),
        ("xpath", "//a[re:test(@href, '/news/')]"),
    ],
)
def test_a_valid_rule_passes(kind, rule):
    assert selector_problem(kind, rule) is None


def test_sources_check_names_every_problem_of_the_file_in_one_pass_each_with_its_line(tmp_path):
    path = tmp_path / "user.toml"
    path.write_text(BAD_FILE, encoding="utf-8")
    proc = run_newsmon("sources", "check", "--config", str(path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    expected = [
        ("user.toml:8: ", "site/by-css: link_css: invalid CSS selector 'li a[href'"),
        ("user.toml:13: ", "site/by-xpath: link_xpath: invalid XPath '//a[@href': Invalid predicate"),
        ("user.toml:14: ", "site/by-xpath: next_css: invalid CSS selector 'a.next::attr(href'"),
        ("user.toml:15: ", "section site/by-xpath: cron: invalid cron '61 2 * * *'"),
        ("user.toml:17: ", "sections[Bad Id].id: required"),
        ("user.toml:22: ", "sections[wrong].kind: expected one of"),
        ("user.toml:23: ", "site/wrong: link_xpath: invalid XPath '//a[@href]]'"),
        ("user.toml:24: ", "sections[wrong].url: expected an http(s) URL"),
        ("user.toml:25: ", "sections[wrong].max_pages: must be ≥ 1"),
    ]
    for where, what in expected:
        assert any(where in line and what in line for line in lines), (where, what, proc.stderr)
    assert len(lines) == len(expected), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_command_names_the_first_problem_and_how_many_more(tmp_path):
    path = tmp_path / "user.toml"
    path.write_text(BAD_FILE, encoding="utf-8")
    with pytest.raises(ConfigProblems) as err:
        load_config(path)
    assert len(err.value.problems) == 4 and str(err.value).startswith(err.value.problems[0])
    assert "(and 3 more problems: `newsmon sources check` lists them all)" in str(err.value)
    assert [s.key for s in err.value.config.sections] == ["site/by-css", "site/by-xpath"]


DUPLICATES = """\
replace_default_sources = true
[[sources]]
id = "site"
[[sources.sections]]
id = "news"
kind = "feed"
url = "http://127.0.0.1:9/feed"
[[sources.sections]]
id = "news"
kind = "feed"
url = "http://127.0.0.1:9/feed2"
[[sources]]
id = "site"
[[sources.sections]]
id = "world"
kind = "feed"
url = "http://127.0.0.1:9/feed3"
[[sources]]
name = "no id"
[[sources.sections]]
id = "a"
kind = "feed"
url = "http://127.0.0.1:9/feed4"
"""


def test_a_duplicate_id_is_named_at_its_second_line_and_a_missing_one_at_its_table(tmp_path):
    path = tmp_path / "user.toml"
    path.write_text(DUPLICATES, encoding="utf-8")
    with pytest.raises(ConfigProblems) as err:
        load_config(path)
    assert err.value.problems == [
        f"{path}:9: sources[site].sections[news]: duplicate section id 'news'",
        f"{path}:13: sources[site]: duplicate source id 'site'",
        f"{path}:18: sources[2].id: required, lowercase letters, digits, '-' or '_' (got None)",
    ]


def test_an_id_of_the_wrong_type_is_named_once_at_its_line(tmp_path):
    path = tmp_path / "user.toml"
    path.write_text(
        'replace_default_sources = true\n[[sources]]\nid = "site"\n[[sources.sections]]\nid = 5\n'
        'kind = "feed"\nurl = "http://127.0.0.1:9/feed"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigProblems) as err:
        load_config(path)
    assert err.value.problems == [f"{path}:5: sources[site].sections[5].id: expected str, got int 5"]


@pytest.fixture
def site():
    server = SiteServer().start()
    server.routes["/news/"] = Route(listing_page([("/news/1.html", "Talks")]))
    server.routes["/news/1.html"] = Route(
        article_page(
            "Talks",
            [
                "The ministry said on Tuesday that the talks on the new trade agreement would continue next month.",
                "Delegations from both countries met in the capital for three days of negotiations on tariffs.",
            ],
        )
    )
    yield server
    server.stop()


@pytest.mark.parametrize(
    "rule",
    [{"link_css": "li a[href"}, {"link_xpath": "//a[@href"}, {"link_css": "div.item a", "next_css": "a.next[rel"}],
)
def test_at_run_time_a_bad_rule_makes_the_section_error_and_broken_without_a_traceback(tmp_path, site, rule):
    out = tmp_path / "out"
    config = write_loopback_config(
        tmp_path / "user.toml",
        [
            {
                "id": "site",
                "sections": [
                    {"id": "news", "kind": "listing", "url": f"{site.url}/news/", "languages": ["en"], **rule}
                ],
            }
        ],
        lifecycle={"hysteresis_runs": 1},
    )  # the state as of this one run
    proc = run_newsmon("run", "--config", str(config), "--output", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("site/news "))
    assert row.split()[-1] == "error", proc.stdout
    bad = next(iter(rule.items())) if len(rule) == 1 else ("next_css", rule["next_css"])
    assert f"the link rule cannot be evaluated: {bad[0]}: invalid" in proc.stdout and repr(bad[1]) in proc.stdout
    conn = state.connect(out)
    try:
        observed = conn.execute("SELECT * FROM section_states WHERE section = 'site/news'").fetchone()
    finally:
        conn.close()
    assert observed is not None, proc.stdout
    assert observed["state"] == "broken", dict(observed)
    assert f"but the link rule cannot be evaluated: {bad[0]}: invalid" in observed["cause"], dict(observed)
