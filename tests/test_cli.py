"""Every command has help with an example; the CLI turns project errors into one line."""

import pytest

from crawler.cli import build_parser, command_modules


@pytest.mark.parametrize("name", sorted(command_modules()))
def test_every_command_has_help_and_an_example(name):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[name]
    assert sub.description and len(sub.description) > 10
    assert sub.epilog and "newsmon " + name in sub.epilog


def test_sources_check_names_the_bad_key(tmp_path, newsmon):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[sources]]\nid = "x"\n[[sources.sections]]\nid = "s"\nkind = "listing"\n'
                   'url = "http://example.org/"\nlink_css = "a"\nmax_page = 3\n', encoding="utf-8")
    proc = newsmon("sources", "check", "--config", str(bad))
    assert proc.returncode == 2
    assert "max_page" in proc.stderr and "bad.toml:8" in proc.stderr
    assert "Traceback" not in proc.stderr
