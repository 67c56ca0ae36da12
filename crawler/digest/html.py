"""``digest.html``: the same day as one self-contained page (no external assets, no script).

Original and English side by side, paragraph by paragraph (stacked on a phone), with the rest of each
article in a ``<details>`` block. Every crawled string goes through ``html.escape``; links are made only
of http(s) URLs; and a Content-Security-Policy forbids scripts, so even a missed escape would not run.
"""

from __future__ import annotations

import html
import re

from crawler.alerts.listing import GOOD_NEWS
from crawler.analysis.chart import bars
from crawler.digest.data import TROUBLE, DayData, alert_extra, grouped, item_date, paragraph_pairs
from crawler.items import english_title, section_key
from crawler.lifecycle import diffview
from crawler.phrases import in_words
from crawler.watch.context import highlight
from crawler.wording import plural

CSS = """
:root{color-scheme:light dark;--fg:#1b1b1b;--muted:#5f6368;--bg:#fff;--card:#f7f7f5;--line:#ddd;
--bad:#b3261e;--badbg:#fdecea;--good:#1e6b34;--goodbg:#e6f4ea;--warn:#8a5a00;--link:#0b57d0}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8e8;--muted:#a0a4a8;--bg:#121212;--card:#1e1e1e;
--line:#333;--bad:#ffb4ab;--badbg:#3b1714;--good:#8fd4a0;--goodbg:#13291a;--warn:#f5c26b;--link:#a8c7fa}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:72rem;padding:1rem;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;color:var(--fg);background:var(--bg);
overflow-wrap:anywhere}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.5rem 0 .5rem;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin:0 0 .2rem}a{color:var(--link)}
.muted,.meta{color:var(--muted);font-size:.85rem}
.alert{background:var(--badbg);border-left:4px solid var(--bad);padding:.4rem .6rem;margin:.3rem 0}
.alert.good{background:var(--goodbg);border-left-color:var(--good)}
.kwic{margin:.2rem 0 .4rem 1rem;font-size:.9rem}.kwic p{margin:0}.kwic .en{color:var(--muted)}
mark{background:#ffe58f;color:#1b1b1b;padding:0 .1rem;border-radius:2px}
.sections{width:100%;border-collapse:collapse;font-size:.9rem}
.sections td{padding:.2rem .4rem;border-bottom:1px solid var(--line);vertical-align:top}
.sections td:nth-child(2){white-space:nowrap}
.state{font-weight:600;white-space:nowrap}.bad .state{color:var(--bad)}.nc .state{color:var(--warn)}
nav ul{padding-left:1.2rem;margin:.3rem 0}
.item{background:var(--card);border-radius:8px;padding:.8rem;margin:.8rem 0}
.otitle{margin:0 0 .2rem;font-size:1rem}
.flag{display:inline-block;font-size:.72rem;font-weight:700;padding:0 .35rem;border:1px solid currentColor;
border-radius:4px;margin-right:.25rem;color:var(--warn)}
.row{display:grid;grid-template-columns:1fr 1fr;gap:1rem;border-top:1px solid var(--line);padding:.4rem 0}
.row p{margin:0}.row .en{color:var(--fg)}.pending{color:var(--muted);font-style:italic}
.single{grid-template-columns:1fr}
.note{margin:.1rem 0;font-size:.85rem;color:var(--warn)}.spark{vertical-align:middle;color:var(--link)}
.weeks{list-style:none;padding:0;margin:.3rem 0}.weeks li{margin:.15rem 0}
.also{margin:.4rem 0 0;padding-left:1.2rem;font-size:.9rem;color:var(--muted)}
.edit{background:var(--bg);border-radius:4px;padding:.3rem .5rem;margin:.4rem 0 0}
.diff{width:100%;border-collapse:collapse;font-size:.9rem}.diff th{color:var(--muted);font-weight:400;
text-align:left;vertical-align:top;padding-right:.5rem;white-space:nowrap}
.diff td{vertical-align:top;padding:.15rem .4rem;border-top:1px solid var(--line);width:50%}
del{background:var(--badbg);text-decoration:line-through}
ins{background:#e6f4ea;color:#0d4f1e;text-decoration:underline}del+ins{margin-left:2px}
@media (prefers-color-scheme:dark){ins{background:#17361f;color:#c4eed0}}
details summary{cursor:pointer;color:var(--muted);font-size:.9rem;margin-top:.3rem}
@media (max-width:40rem){body{padding:.6rem}.diff td,.diff th{display:block;width:auto}
.row{grid-template-columns:1fr;gap:.3rem}
.row .en{border-left:3px solid var(--line);padding-left:.5rem}
.sections tr{display:block;border-bottom:1px solid var(--line);padding:.2rem 0}
.sections td{display:inline;border:0;padding:0 .4rem 0 0}.sections td.detail{display:block}}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def safe_url(url: str | None) -> str | None:
    """A URL fit for an href: http(s) only (no javascript:, data:, …)."""
    return url if url and re.match(r"^https?://", url.strip(), re.I) else None


def render(data: DayData, paragraphs: int, generated_at: str) -> str:
    parts = [
        _head(data),
        "<body>",
        _top(data, generated_at),
        _watched(data),
        _watch_weeks(data),
        _alerts(data),
        _sections(data),
        _toc(data),
    ]
    parts += [_group(key, items, data, paragraphs) for key, items in grouped(data)]
    parts.append(f'<p class="muted">newsmon · generated {esc(generated_at)}</p></body></html>\n')
    return "\n".join(parts)


def _head(data: DayData) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>newsmon digest {esc(data.day)}</title><style>{CSS}</style></head>"
    )


def _top(data: DayData, generated_at: str) -> str:
    trouble = data.trouble
    note = f", <strong>{plural(len(trouble), 'section')} in trouble</strong>" if trouble else ""
    return (
        f"<header><h1>newsmon digest {esc(data.day)}</h1>"
        f'<p class="muted">{plural(len(data.items), "item")}, {plural(len(data.alerts), "alert")}{note}</p>'
        "</header>"
    )


def _watched(data: DayData) -> str:
    """The day's watch hits, each linking to its item below (nothing when there are none)."""
    if not data.watched:
        return ""
    rows = []
    for item, hit in data.watched:
        phrases = in_words(hit.get("phrases") or [], hit.get("found") or [])
        title = english_title(item) or item.get("title")
        rows.append(
            f'<li><span class="flag">watch:{esc(hit.get("name"))}</span> <a href="#i-{esc(item["id"])}">'
            f'{esc(title)}</a> <span class="muted">· {esc(section_key(item))} · {esc(phrases)} in '
            f"{esc(', '.join(hit.get('in') or []))}</span>{_contexts(item, hit)}</li>"
        )
    return f'<h2 id="watched">Watched ({len(data.watched)})</h2><ul class="watched">{"".join(rows)}</ul>'


def _contexts(item: dict, hit: dict) -> str:
    """The sentence around each match (``crawler.watch.context``), original then English, matches marked."""
    rows = []
    for ctx in hit.get("contexts") or []:
        if not isinstance(ctx, dict):
            continue
        where = "title" if ctx.get("in") == "title" else f"¶{(ctx.get('paragraph') or 0) + 1}"
        lang = item.get("lang") or ""
        rows.append(
            f'<p lang="{esc(lang)}"><span class="muted">{esc(where)}</span> '
            f"{highlight(ctx.get('original'), _mark, esc)}</p>"
        )
        if ctx.get("english"):
            rows.append(f'<p class="en" lang="en">{highlight(ctx["english"], _mark, esc)}</p>')
    return f'<div class="kwic">{"".join(rows)}</div>' if rows else ""


def _mark(word: str) -> str:
    return f"<mark>{esc(word)}</mark>"


def _watch_weeks(data: DayData) -> str:
    """Each watch's hits per week, as a small inline chart (crawler/analysis; nothing without watches)."""
    if not data.watch_weeks:
        return ""
    rows = [
        f"<li>{bars(f'watch:{w.name}, items per week', w.labels, list(w.counts))} "
        f'<span class="flag">watch:{esc(w.name)}</span> <span class="muted">{sum(w.counts)} in '
        f"{len(w.counts)} weeks</span></li>"
        for w in data.watch_weeks
    ]
    return f'<h2 id="watch-weeks">Watches, week by week</h2><ul class="weeks">{"".join(rows)}</ul>'


def _alerts(data: DayData) -> str:
    if not data.alerts:
        return '<h2 id="alerts">Alerts</h2><p class="muted">No alerts.</p>'
    rows, on_page = [], {item["id"] for item in data.items}
    for event in data.alerts:
        details = event.get("details") or {}
        url = safe_url(details.get("url") or details.get("article_url"))
        link = f' <a href="{esc(url)}">{esc(url)}</a>' if url else ""
        if event.get("article_id") in on_page:
            link += f' · <a href="#i-{esc(event["article_id"])}">below</a>'
        extra = alert_extra(event)
        extra = f"<br>{esc(extra)}" if extra else ""
        kind = "alert good" if event.get("type") in GOOD_NEWS else "alert"
        rows.append(
            f'<div class="{kind}"><strong>{esc(event.get("type"))}</strong> · {esc(event.get("section"))}'
            f" · {esc((event.get('at') or '')[:16].replace('T', ' '))} UTC<br>{esc(event.get('cause'))}"
            f"{extra}{link}{_edit(data.edits.get(event.get('id') or ''), data.served_at)}</div>"
        )
    return f'<h2 id="alerts">Alerts ({len(data.alerts)})</h2>' + "".join(rows)


def _edit(diff, served_at: str) -> str:
    """What an edit changed (original | English, changed words marked), linking the whole diff's page."""
    if diff is None:
        return ""
    return diffview.html_block(diff, diffview.page_link(diff, served_at) if diff.complete else None)


def _sections(data: DayData) -> str:
    rows = []
    for s in data.sections:
        cls = "bad" if s.state in TROUBLE else "nc" if s.state == "NOT-CRAWLED" else ""
        rows.append(
            f'<tr class="{cls}"><td class="state">{esc(s.state)}</td><td>{esc(s.key)}</td>'
            f'<td class="detail">{esc(s.detail)}</td></tr>'
        )
    rows += [
        f'<tr class="bad"><td class="state">UNREADABLE</td><td colspan="2">{esc(p)}</td></tr>' for p in data.problems
    ]
    body = "".join(rows) or '<tr><td colspan="3">No section was crawled.</td></tr>'
    return f'<h2 id="sections">Sections</h2><table class="sections">{body}</table>'


def _toc(data: DayData) -> str:
    groups = grouped(data)
    if not groups:
        return '<h2>Items</h2><p class="muted">No new items this day — see Sections above for why.</p>'
    links = "".join(
        f'<li><a href="#{_anchor(key)}">{esc(_group_name(key, data))}</a> ({len(items)})</li>' for key, items in groups
    )
    return f"<nav><h2>Items ({len(data.items)})</h2><ul>{links}</ul></nav>"


def _anchor(key: str) -> str:
    return "s-" + re.sub(r"[^a-z0-9_-]", "-", key.lower())


def _group_name(key: str, data: DayData) -> str:
    name = " › ".join(x for x in (data.names.get(key.split("/")[0]), data.names.get(key)) if x)
    return f"{key} — {name}" if name else key


def _group(key: str, items: list[dict], data: DayData, paragraphs: int) -> str:
    cards = "".join(_item(item, data, paragraphs) for item in items)
    return f'<section id="{_anchor(key)}"><h2>{esc(_group_name(key, data))}</h2>{cards}</section>'


def _item(item: dict, data: DayData, paragraphs: int) -> str:
    lang = item.get("lang") or "und"
    url = safe_url(item.get("url"))
    title_en = english_title(item)
    shown = esc(title_en) if title_en else f'<span class="pending">{esc(item.get("title"))}</span>'
    title = f'<a href="{esc(url)}">{shown}</a>' if url else shown
    original = (
        "" if lang == "en" or not title_en else f'<p class="otitle" lang="{esc(lang)}">{esc(item.get("title"))}</p>'
    )
    flags = "".join(f'<span class="flag">{esc(f)}</span>' for f in data.flags.get(item["id"], []))
    meta = (
        f'<p class="meta">{flags}{esc(item_date(item, data.day))} · {esc(section_key(item))} · '
        f"{esc(lang)} · #{esc(item['id'][:8])}</p>"
    )
    pairs = paragraph_pairs(item, None)
    rows = "".join(_row(o, e, lang) for o, e in pairs[:paragraphs])
    rest = "".join(_row(o, e, lang) for o, e in pairs[paragraphs:])
    more = f"<details><summary>{len(pairs) - paragraphs} more paragraphs</summary>{rest}</details>" if rest else ""
    notes = "".join(f'<p class="note">{esc(note)}</p>' for note in data.notes.get(item["id"], []))
    return (
        f'<article class="item" id="i-{esc(item["id"])}"><h3>{title}</h3>{original}{notes}{meta}{rows}{more}'
        f"{_also(item, data)}</article>"
    )


def _also(item: dict, data: DayData) -> str:
    """The other copies of the item's story that day, one line each (anchors kept for links from alerts)."""
    rows = []
    for copy in data.copies.get(item["id"], []):
        url = safe_url(copy.get("url"))
        shown = esc(english_title(copy) or copy.get("title"))
        link = f'<a href="{esc(url)}">{shown}</a>' if url else shown
        rows.append(
            f'<li id="i-{esc(copy["id"])}">also: {link} · {esc(section_key(copy))} · '
            f"{esc(copy.get('lang') or 'und')} · #{esc(copy['id'][:8])}</li>"
        )
    return f'<ul class="also">{"".join(rows)}</ul>' if rows else ""


def _row(original: str, english: str | None, lang: str) -> str:
    if lang == "en":
        return f'<div class="row single"><p lang="en">{esc(original)}</p></div>'
    en = (
        f'<p class="en" lang="en">{esc(english)}</p>'
        if english
        else '<p class="en pending" lang="en">(translation pending)</p>'
    )
    return f'<div class="row"><p lang="{esc(lang)}">{esc(original)}</p>{en}</div>'
