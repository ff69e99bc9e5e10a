"""HTML building blocks of the report: page shell, inline CSS and script, figures, tables.

The page is self-contained: CSS and script inline, images as ``data:`` URIs, and a
Content-Security-Policy that forbids the page itself from loading anything that is
not inline (so opening it can never reach the network). Every piece of text that
comes from a file goes through :func:`esc`.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

#: Forbids every fetch: only inline style/script and data: images are allowed.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)

CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: #1a1a1a; background: #fff; margin: 0 auto; max-width: 62rem;
       padding: 1.2rem 1.5rem 3rem; line-height: 1.45; }
h1 { font-size: 1.15rem; font-weight: 600; color: #555; margin: 0 0 .6rem; }
h2 { font-size: 1.1rem; margin: 2rem 0 .5rem; }
.headline { border: 2px solid #1f3b73; border-radius: .6rem; padding: 1rem 1.3rem;
            background: #f4f7fc; }
.headline .when { margin: 0; color: #333; font-weight: 600; }
.headline .big { font-size: 2.1rem; font-weight: 700; margin: .2rem 0; color: #1f3b73; }
.headline .big small { font-size: 1.15rem; font-weight: 600; color: #333; }
.headline .pattern { font-size: 1.2rem; margin: .2rem 0; }
.headline .mixture, .headline .dst { margin: .3rem 0 0; }
.quality { margin: .8rem 0 0; color: #333; }
.quality b { font-weight: 600; }
figure { margin: 1.2rem 0; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: .88rem; color: #444; margin-top: .2rem; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
        gap: 0 1.5rem; }
table { border-collapse: collapse; font-size: .9rem; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: right; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
td:first-child { white-space: nowrap; }
thead th { border-bottom: 2px solid #999; }
tr.selected { background: #f4f7fc; font-weight: 600; }
details { margin-top: 2rem; font-size: .88rem; color: #333; }
details table { width: auto; }
details td { text-align: left; font-family: ui-monospace, Menlo, Consolas, monospace; }
.muted { color: #666; font-size: .85rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  .headline { background: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  details { display: none; }
}
""".strip()

#: On load, checks that every plot is decoded and laid out with a non-zero size and
#: that nothing was fetched, and writes the result onto <body> (read by the tests).
SCRIPT = """
window.addEventListener('load', function () {
  var total = 0, ok = 0, bad = [];
  document.querySelectorAll('img').forEach(function (im) {
    total++;
    var r = im.getBoundingClientRect();
    if (im.complete && im.naturalWidth > 0 && r.width > 0 && r.height > 0) { ok++; }
    else { bad.push(im.id || im.alt); }
  });
  document.querySelectorAll('svg').forEach(function (s) {
    total++;
    var b = s.getBBox();
    if (b.width > 0 && b.height > 0) { ok++; } else { bad.push(s.id || 'svg'); }
  });
  var fetched = performance.getEntriesByType('resource').filter(function (e) {
    return e.name.slice(0, 5) !== 'data:';
  }).length;
  document.body.setAttribute('data-plots-total', String(total));
  document.body.setAttribute('data-plots-visible', String(ok));
  document.body.setAttribute('data-plots-bad', bad.join('|'));
  document.body.setAttribute('data-fetched', String(fetched));
  document.body.setAttribute('data-render', 'done');
});
""".strip()


def esc(value: object) -> str:
    """HTML-escape any value (quotes too), after ``str()``."""
    return html.escape(str(value), quote=True)


def svg_data_uri(svg: str) -> str:
    """An SVG document as a base64 ``data:image/svg+xml`` URI."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def figure(fig_id: str, svg: str, alt: str, caption: str) -> str:
    """A ``<figure>`` with the plot as an ``<img>`` (``alt`` and ``title`` set) and a
    caption. ``alt`` and ``caption`` are plain text and are escaped here."""
    return (
        f'<figure id="fig-{esc(fig_id)}">'
        f'<img id="plot-{esc(fig_id)}" src="{svg_data_uri(svg)}" alt="{esc(alt)}" '
        f'title="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    text_columns: Sequence[int] = (0,),
    selected: int | None = None,
    caption: str | None = None,
) -> str:
    """A plain table; every cell escaped. ``selected`` is the row index to highlight."""
    text_cls = ' class="text"'
    head = "".join(
        f'<th scope="col"{text_cls if i in text_columns else ""}>{esc(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = []
    for r, row in enumerate(rows):
        cells = "".join(
            f"<td{text_cls if i in text_columns else ''}>{esc(c)}</td>" for i, c in enumerate(row)
        )
        cls = ' class="selected"' if r == selected else ""
        body.append(f"<tr{cls}>{cells}</tr>")
    cap = f'<caption class="muted">{esc(caption)}</caption>' if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(title: str, body: str) -> str:
    """The whole HTML document around ``body`` (already-safe HTML); ``title`` is escaped."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="jerkcount">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
        f'<body data-render="pending">\n{body}\n<script>{SCRIPT}</script>\n</body></html>\n'
    )
