"""Config: defaults + user file merge rules, and errors that name the file, line and key."""

import pytest

from crawler.config import load_config
from crawler.exceptions import ConfigError

SECTION = """
[[sources]]
id = "tass-en"
[[sources.sections]]
id = "world"
kind = "feed"
url = "http://tass.example/rss"
"""


def write(tmp_path, text):
    path = tmp_path / "user.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_file_overrides_only_the_keys_it_sets(tmp_path):
    default = load_config()
    user = load_config(write(tmp_path, "[crawler]\ndownload_delay = 4\n"))
    assert user.table("crawler")["download_delay"] == 4
    assert user.table("crawler")["user_agent"] == default.table("crawler")["user_agent"]
    assert [s.key for s in user.sections] == [s.key for s in default.sections]


def test_sources_merge_by_id_and_new_ids_extend(tmp_path):
    default = load_config()
    first = default.sections[0]
    text = (
        f'[[sources]]\nid = "{first.source_id}"\n[[sources.sections]]\nid = "{first.id}"\nmax_pages = 7\n'
        '[[sources]]\nid = "mine"\n[[sources.sections]]\nid = "feed"\nkind = "feed"\n'
        'url = "https://example.org/rss"\n'
    )
    merged = load_config(write(tmp_path, text))
    changed = next(s for s in merged.sections if s.key == first.key)
    assert changed.max_pages == 7 and changed.url == first.url
    assert merged.sections[-1].key == "mine/feed"
    assert len(merged.sections) == len(default.sections) + 1


def test_disabled_source_and_replacing_the_defaults(tmp_path):
    first = load_config().sources[0]
    dropped = load_config(write(tmp_path, f'[[sources]]\nid = "{first.id}"\nenabled = false\n'))
    assert first.id not in {s.id for s in dropped.sources}
    only = load_config(write(tmp_path, "replace_default_sources = true\n" + SECTION))
    assert [s.key for s in only.sections] == ["tass-en/world"]


# The user file below is: 1 replace_default_sources, 3 [[sources]], 6 section id, 9 the line under test.
@pytest.mark.parametrize(
    "line, message",
    [
        ("max_page = 3", "sources[tass-en].sections[world].max_page: unknown key"),
        ('max_pages = "3"', "max_pages: expected int, got str"),
        ("max_pages = 0", "max_pages: must be ≥ 1"),
        ('link_pattern = "(unclosed"', "link_pattern: invalid regular expression"),
        ('parser = "kremlinn"', "parser: unknown parser 'kremlinn'"),
    ],
)
def test_errors_name_the_file_line_and_key(tmp_path, line, message):
    path = write(tmp_path, "replace_default_sources = true\n" + SECTION + line + "\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "user.toml:9: " in str(err.value)
    assert message in str(err.value)


def test_section_error_points_at_the_right_source_when_ids_repeat(tmp_path):
    text = (
        "replace_default_sources = true\n"
        + SECTION
        + '[[sources]]\nid = "other"\n[[sources.sections]]\nid = "world"\nkind = "feed"\n'
        'url = "http://other.example/rss"\nmax_pagez = 2\n'
    )
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert "user.toml:15" in str(err.value) and "sources[other].sections[world].max_pagez" in str(err.value)


def test_toml_syntax_error_names_the_line(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "[crawler\nx = 1\n"))
    assert "user.toml" in str(err.value) and "line 1" in str(err.value)


def test_newsmon_config_environment_variable_is_the_default_config(tmp_path, newsmon):
    path = write(tmp_path, "replace_default_sources = true\n" + SECTION)
    proc = newsmon("sources", "list", env={"NEWSMON_CONFIG": str(path)})
    assert proc.returncode == 0, proc.stderr
    assert "tass-en/world" in proc.stdout and "kremlin" not in proc.stdout


def test_sources_check_validates_every_feature_table_and_names_each_problem(tmp_path, newsmon):
    path = write(
        tmp_path,
        '[digest]\nparagraphs = 0\n[alerts]\nbogus = 1\n[schedule]\ncron = "61 2 * * *"\n'
        '[translation]\nbeam_size = "four"\n',
    )
    proc = newsmon("sources", "check", "--config", str(path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert any("user.toml:2: [digest] paragraphs: must be ≥ 1" in line for line in lines), proc.stderr
    assert any("user.toml:4: [alerts] bogus: unknown key" in line for line in lines), proc.stderr
    assert any("user.toml:6: [schedule] cron: invalid cron" in line for line in lines), proc.stderr
    assert any("user.toml:8: [translation] beam_size: expected int" in line for line in lines), proc.stderr
    assert "Traceback" not in proc.stderr


def test_sources_check_names_a_section_cron_with_an_unknown_time_zone(tmp_path, newsmon):
    first = load_config().sections[0]
    path = write(
        tmp_path,
        f'[[sources]]\nid = "{first.source_id}"\n[[sources.sections]]\nid = "{first.id}"\n'
        'cron = "0 */2 * * * Mars/Olympus"\n',
    )
    proc = newsmon("sources", "check", "--config", str(path))
    assert proc.returncode == 2 and f"section {first.key}: cron: unknown time zone 'Mars/Olympus'" in proc.stderr


def test_sources_check_passes_the_shipped_defaults(newsmon):
    proc = newsmon("sources", "check")
    assert proc.returncode == 0 and proc.stdout.startswith("ok: "), proc.stderr
