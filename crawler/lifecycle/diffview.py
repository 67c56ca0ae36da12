"""A ``VersionDiff`` shown: text lines with ``[-removed-]{+added+}`` marks (``newsmon diff``, digest.txt, alert
messages), an HTML block of the changed paragraphs (digest.html, the edits feed) and a standalone HTML page of
the whole article, original and English side by side, changed words in ``<del>``/``<ins>`` (``newsmon diff
--html``, the pages under ``output/diffs/`` that the digest and the feeds link).

Every crawled string goes through ``html.escape``; the page has no script and a Content-Security-Policy that
forbids them, like the digest.
"""

from __future__ import annotations

import html
from pathlib import Path

from crawler.lifecycle.textdiff import ADDED, EQUAL, REMOVED, marked, trimmed
from crawler.lifecycle.versiondiff import Segments, VersionDiff
from crawler.store.diskspace import write_atomic

DIFFS_DIR = "diffs"  # under the output directory: one page per kept edit, <article id>-v<N>.html
CONTEXT = 80  # characters of unchanged text kept on each side of a change in the short forms
MAX_ROWS = 6  # changed paragraphs a short form shows (the page shows them all)
LEGEND = "[-removed-] {+added+}"


def when(version) -> str:
    return (version.at or "")[:16].replace("T", " ") or "?"


def heading(diff: VersionDiff) -> str:
    return f"version {diff.new.number} ({when(diff.new)} UTC) against version {diff.old.number} ({when(diff.old)} UTC)"


def english_note(diff: VersionDiff) -> str:
    """Why a changed paragraph has no English beside it."""
    if not diff.complete:
        return "English not kept for this edit"
    if diff.new.paragraphs_en is None:
        return f"version {diff.new.number} not translated yet"
    return f"version {diff.old.number} was never translated"


# ---------------------------------------------------------------- text


def text_lines(diff: VersionDiff, context: int | None = None, tag: str = "", limit: int | None = None) -> list[str]:
    """One line per language of the changed title and of each changed paragraph (``limit`` of them), with
    ``context`` characters of unchanged text around the changes (None: whole paragraphs). A diff of unknown
    language (rebuilt from an event) has no language labels and no English lines."""
    lang = f"{diff.lang.upper():<3} " if diff.lang else ""
    other = diff.lang not in ("en", None)
    lines = []
    if diff.title is not None:
        lines.append(f"{tag}title {lang}{_text(diff.title, context)}")
        if other and diff.title_en is not None:
            lines.append(f"{tag}title EN  {_text(diff.title_en, context)}")
    changes = diff.changes
    for row in changes[:limit]:
        lines.append(f"{tag}¶{row.number} {lang}{_text(row.original, context)}")
        if other:
            english = _text(row.english, context) if row.english is not None else f"({english_note(diff)})"
            lines.append(f"{tag}¶{row.number} EN  {english}")
    if limit is not None and len(changes) > limit:
        lines.append(f"{tag}… {len(changes) - limit} more changed paragraph(s)")
    return lines


def _text(segments: Segments, context: int | None) -> str:
    shown = trimmed(segments, context) if context is not None else segments
    return " ".join(marked(shown).split())


# ---------------------------------------------------------------- HTML


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def segments_html(segments: Segments, context: int | None = None) -> str:
    shown = trimmed(segments, context) if context is not None else segments
    tags = {EQUAL: "{}", REMOVED: "<del>{}</del>", ADDED: "<ins>{}</ins>"}
    return "".join(tags[mark].format(esc(text)) for mark, text in shown)


def html_block(diff: VersionDiff, link: str | None = None, context: int = CONTEXT, limit: int = MAX_ROWS) -> str:
    """The changed title and paragraphs as a small table (original | English), trimmed around the changes, and
    a link to the whole diff page."""
    other = diff.lang != "en"
    lang = esc(diff.lang or "und")
    rows = []
    if diff.title is not None:
        rows.append(_block_row("title", diff.title, diff.title_en, lang, other, diff, context))
    changes = diff.changes
    rows += [
        _block_row(f"¶{row.number}", row.original, row.english, lang, other, diff, context) for row in changes[:limit]
    ]
    more = f" ({len(changes) - limit} more changed paragraphs)" if len(changes) > limit else ""
    link_html = f' <a class="difflink" href="{esc(link)}">full diff</a>' if link else ""
    return (
        f'<div class="edit"><table class="diff">{"".join(rows)}</table>'
        f'<p class="meta">{esc(heading(diff))}{esc(more)}{link_html}</p></div>'
    )


def _block_row(
    label: str, original: Segments, english: Segments | None, lang: str, other: bool, diff: VersionDiff, context: int
) -> str:
    cells = f'<th>{esc(label)}</th><td lang="{lang}">{segments_html(original, context)}</td>'
    if other:
        cells += (
            f'<td lang="en">{segments_html(english, context)}</td>'
            if english is not None
            else f'<td lang="en" class="pending">({esc(english_note(diff))})</td>'
        )
    return f"<tr>{cells}</tr>"


PAGE_CSS = """
:root{color-scheme:light dark;--fg:#1b1b1b;--muted:#5f6368;--bg:#fff;--line:#ddd;--del:#fdecea;--ins:#e6f4ea;
--link:#0b57d0}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8e8;--muted:#a0a4a8;--bg:#121212;--line:#333;--del:#4a1c18;
--ins:#17361f;--link:#a8c7fa}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:80rem;padding:1rem;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;color:var(--fg);background:var(--bg);
overflow-wrap:anywhere}
h1{font-size:1.3rem;margin:.2rem 0}a{color:var(--link)}.meta{color:var(--muted);font-size:.85rem}
del{background:var(--del);text-decoration:line-through}ins{background:var(--ins);text-decoration:underline}
del+ins{margin-left:2px}
.row{display:grid;grid-template-columns:3rem 1fr 1fr;gap:1rem;border-top:1px solid var(--line);padding:.4rem 0}
.row.single{grid-template-columns:3rem 1fr}.row p{margin:0}.num{color:var(--muted);font-size:.85rem}
.row.same{color:var(--muted)}.pending{color:var(--muted);font-style:italic}
@media (max-width:40rem){body{padding:.6rem}.row,.row.single{grid-template-columns:1fr;gap:.3rem}
.row .en{border-left:3px solid var(--line);padding-left:.5rem}}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def html_page(diff: VersionDiff) -> str:
    """The whole article, paragraph by paragraph, original and English side by side, changes marked."""
    other = diff.lang != "en"
    lang = esc(diff.lang or "und")
    title = diff.new.title_en if other and diff.new.title_en else diff.new.title
    url = diff.url if diff.url and diff.url.lower().startswith(("http://", "https://")) else None
    link = f'<a href="{esc(url)}">{esc(url)}</a>' if url else ""
    head = [f"<h1>{esc(title)}</h1>"]
    if other and diff.new.title_en:
        head.append(f'<p lang="{lang}">{esc(diff.new.title)}</p>')
    head.append(
        f'<p class="meta">{esc(diff.section)} · {lang} · #{esc(diff.article_id[:8])} · {link}<br>'
        f"{esc(heading(diff))} · <del>removed</del> <ins>added</ins></p>"
    )
    rows = []
    if diff.title is not None:
        rows.append(_page_row("title", "changed", diff.title, diff.title_en, lang, other, diff))
    rows += [_page_row(str(row.number), row.kind, row.original, row.english, lang, other, diff) for row in diff.rows]
    if not diff.complete:
        rows.append('<p class="meta">Only the changed paragraphs were kept for this edit.</p>')
    page_title = f"diff {diff.article_id[:8]} v{diff.new.number}: {title or diff.url or ''}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{esc(page_title)}</title>"
        f"<style>{PAGE_CSS}</style></head><body><header>{''.join(head)}</header>"
        f'<main id="diff">{"".join(rows)}</main></body></html>\n'
    )


def _page_row(
    label: str, kind: str, original: Segments, english: Segments | None, lang: str, other: bool, diff: VersionDiff
) -> str:
    cells = f'<span class="num">{esc(label)}</span><p lang="{lang}">{segments_html(original)}</p>'
    if other:
        if english is not None:
            cells += f'<p class="en" lang="en">{segments_html(english)}</p>'
        else:
            note = english_note(diff) if kind != "same" else "not translated"
            cells += f'<p class="en pending" lang="en">({esc(note)})</p>'
    return f'<div class="row {esc(kind)}{"" if other else " single"}">{cells}</div>'


def write_pages(output_dir: str | Path, diffs: list[VersionDiff]) -> int:
    """Each diff's page under ``output/diffs/`` (written only when it differs: the English of a version
    arrives a run later). Returns the pages written."""
    folder = Path(output_dir) / DIFFS_DIR
    written = 0
    for diff in diffs:
        page = html_page(diff).encode("utf-8")
        path = folder / diff.page_name
        if path.exists() and path.read_bytes() == page:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, page)
        written += 1
    return written


def page_link(diff: VersionDiff, served_at: str = "") -> str:
    """The diff page's address: under ``served_at`` (the URL of the output directory, ``[feeds] base_url``),
    else relative to a file one folder below the output directory (a day's digest, a feed)."""
    return f"{served_at or '../'}{DIFFS_DIR}/{diff.page_name}"
