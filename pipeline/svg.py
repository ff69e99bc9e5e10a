"""A small SVG builder for the report's plots: document, scales, axes, legends.

No plotting library: the report's five plots are bars, spans, lines and text, which
this module writes directly as SVG elements (a few milliseconds per plot, against
about a second for importing and running matplotlib).

Coordinates are SVG user units, which are CSS pixels at 100 % zoom; ``x`` grows to
the right and ``y`` downwards. Data values are mapped to pixels by a :class:`Scale`
(linear or log10). A :class:`Panel` is one plot area: its two scales, and the
methods that draw the axes (spines, ticks, tick labels, axis labels, title), a note
on empty plots and a legend. Text is real ``<text>`` in a system sans-serif font, so
it stays sharp at any zoom and can be found by searching the page; every piece of
text is XML-escaped.

Data elements carry a ``class`` (``bar``, ``jerks``, ``span-movement`` ...) so tests
and stylesheets can find them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "FONT",
    "LegendItem",
    "Panel",
    "Scale",
    "Svg",
    "decade_ticks",
    "fmt",
    "nice_ticks",
    "text_width",
]

#: Font stack of every text (the page's own, ending in the generic family).
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
#: Colour of axes, ticks and labels.
INK = "#222222"
#: Colour of notes on empty plots.
MUTED = "#555555"
#: Font sizes, px.
TICK_PX = 11.0
LABEL_PX = 11.5
TITLE_PX = 13.0
LEGEND_PX = 10.5


def fmt(v: float) -> str:
    """A coordinate as short text: at most 2 decimals, no trailing zeros (px)."""
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def escape(text: str) -> str:
    """``text`` with ``&``, ``<`` and ``>`` escaped for XML character data."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: object) -> str:
    """``value`` as text escaped for a double-quoted XML attribute."""
    return escape(str(value)).replace('"', "&quot;")


def text_width(text: str, size: float) -> float:
    """Rough width of ``text`` at font size ``size`` px in a sans-serif font, px.

    Only used for layout (legend and label room); an average glyph is ~0.58 em.
    """
    return 0.58 * size * len(text)


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 x 10^k apart) covering ``[lo, hi]``.

    >>> nice_ticks(0, 47)
    [0.0, 10.0, 20.0, 30.0, 40.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(max_ticks - 1, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw - 1e-12)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def decade_ticks(lo: float, hi: float) -> tuple[list[float], list[float]]:
    """Powers of ten (major) and their 2-9 multiples (minor) inside ``[lo, hi]``, > 0."""
    major: list[float] = []
    minor: list[float] = []
    for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in range(1, 10):
            v = round(m * 10.0**k, 12)
            if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
                (major if m == 1 else minor).append(v)
    return major, minor


@dataclass(frozen=True)
class Scale:
    """Maps data values on ``[lo, hi]`` to pixels on ``[p0, p1]``, linearly or on log10.

    ``p1 < p0`` is allowed (a y axis, which grows upwards on screen). Values outside
    ``[lo, hi]`` map outside ``[p0, p1]``; use :meth:`clip` to keep them inside.
    """

    lo: float
    hi: float
    p0: float
    p1: float
    log: bool = False

    def __post_init__(self) -> None:
        if not self.hi > self.lo:
            raise ValueError(f"need hi > lo, got [{self.lo}, {self.hi}]")
        if self.log and self.lo <= 0:
            raise ValueError("a log scale needs lo > 0")

    def _t(self, v: np.ndarray) -> np.ndarray:
        if self.log:
            lo, hi = math.log10(self.lo), math.log10(self.hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                return (np.log10(v) - lo) / (hi - lo)
        return (v - self.lo) / (self.hi - self.lo)

    def __call__(self, v: float) -> float:
        """Pixel of one value."""
        return float(self.p0 + self._t(np.float64(v)) * (self.p1 - self.p0))

    def many(self, v: Sequence[float] | np.ndarray) -> np.ndarray:
        """Pixels of an array of values."""
        return self.p0 + self._t(np.asarray(v, dtype=np.float64)) * (self.p1 - self.p0)

    def clip(self, v: float) -> float:
        """Pixel of ``v`` clamped to ``[lo, hi]``."""
        return self(min(max(v, self.lo), self.hi))


@dataclass(frozen=True)
class LegendItem:
    """One legend row: a swatch and its label.

    ``fill`` is the swatch colour; ``opacity`` its opacity; ``hatch`` adds diagonal
    hatching; ``dash`` makes the swatch a line instead of a box (``""`` solid, else an
    SVG ``stroke-dasharray`` such as ``"5 3"``).
    """

    label: str
    fill: str
    opacity: float = 1.0
    hatch: bool = False
    dash: str | None = None
    stroke: str | None = None


@dataclass
class Svg:
    """An SVG document of ``width`` x ``height`` px being built element by element.

    ``title`` becomes the document's ``<title>`` (read by screen readers and shown
    as a tooltip).
    """

    width: float
    height: float
    title: str = ""
    _body: list[str] = field(default_factory=list)
    _defs: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------ elements
    def add(self, element: str) -> None:
        """Append a raw, already-escaped element."""
        self._body.append(element)

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        fill: str,
        *,
        opacity: float | None = None,
        stroke: str | None = None,
        stroke_width: float | None = None,
        cls: str | None = None,
    ) -> None:
        """A rectangle; negative ``w``/``h`` are normalised (px)."""
        if w < 0:
            x, w = x + w, -w
        if h < 0:
            y, h = y + h, -h
        a = [f'x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(h)}" fill="{fill}"']
        if cls:
            a.append(f'class="{_attr(cls)}"')
        if opacity is not None and opacity < 1:
            a.append(f'fill-opacity="{fmt(opacity)}"')
        if stroke:
            a.append(f'stroke="{stroke}" stroke-width="{fmt(stroke_width or 1.0)}"')
        self._body.append(f"<rect {' '.join(a)}/>")

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        stroke: str = INK,
        width: float = 1.0,
        *,
        dash: str | None = None,
        cls: str | None = None,
    ) -> None:
        """A straight line (px); ``dash`` an SVG ``stroke-dasharray``."""
        a = [
            f'x1="{fmt(x1)}" y1="{fmt(y1)}" x2="{fmt(x2)}" y2="{fmt(y2)}" '
            f'stroke="{stroke}" stroke-width="{fmt(width)}"'
        ]
        if dash:
            a.append(f'stroke-dasharray="{dash}"')
        if cls:
            a.append(f'class="{_attr(cls)}"')
        self._body.append(f"<line {' '.join(a)}/>")

    def path(
        self,
        d: str,
        *,
        stroke: str | None = None,
        width: float = 1.0,
        fill: str = "none",
        cap: str | None = None,
        cls: str | None = None,
    ) -> None:
        """A path with path data ``d`` (px)."""
        a = [f'd="{d}" fill="{fill}"']
        if stroke:
            a.append(f'stroke="{stroke}" stroke-width="{fmt(width)}"')
        if cap:
            a.append(f'stroke-linecap="{cap}"')
        if cls:
            a.append(f'class="{_attr(cls)}"')
        self._body.append(f"<path {' '.join(a)}/>")

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = TICK_PX,
        anchor: str = "start",
        fill: str = INK,
        weight: str | None = None,
        rotate: float | None = None,
        baseline: str | None = None,
        cls: str | None = None,
    ) -> None:
        """Text at ``(x, y)`` px (``y`` is the baseline unless ``baseline`` is given:
        ``"middle"`` or ``"hanging"``); ``rotate`` degrees about ``(x, y)``."""
        a = [f'x="{fmt(x)}" y="{fmt(y)}" font-size="{fmt(size)}"']
        if anchor != "start":
            a.append(f'text-anchor="{anchor}"')
        if baseline:
            a.append(f'dominant-baseline="{baseline}"')
        if fill != INK:
            a.append(f'fill="{fill}"')
        if weight:
            a.append(f'font-weight="{weight}"')
        if rotate:
            a.append(f'transform="rotate({fmt(rotate)} {fmt(x)} {fmt(y)})"')
        if cls:
            a.append(f'class="{_attr(cls)}"')
        self._body.append(f"<text {' '.join(a)}>{escape(text)}</text>")

    def hatch(self, colour: str = "#555555") -> str:
        """A diagonal-hatching pattern in ``colour``; returns its ``url(#...)`` fill."""
        pid = "hatch-" + colour.lstrip("#").lower()
        if pid not in self._defs:
            self._defs[pid] = (
                f'<pattern id="{pid}" patternUnits="userSpaceOnUse" width="6" height="6" '
                f'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" '
                f'stroke="{colour}" stroke-width="1.2"/></pattern>'
            )
        return f"url(#{pid})"

    def clip_rect(self, name: str, x: float, y: float, w: float, h: float) -> str:
        """A clip path ``name`` for the rectangle; returns its ``url(#...)``."""
        self._defs[name] = (
            f'<clipPath id="{name}"><rect x="{fmt(x)}" y="{fmt(y)}" '
            f'width="{fmt(w)}" height="{fmt(h)}"/></clipPath>'
        )
        return f"url(#{name})"

    def group(self, clip: str | None = None, cls: str | None = None) -> None:
        """Open a ``<g>`` (close it with :meth:`end_group`)."""
        a = []
        if clip:
            a.append(f'clip-path="{clip}"')
        if cls:
            a.append(f'class="{_attr(cls)}"')
        self._body.append(f"<g {' '.join(a)}>" if a else "<g>")

    def end_group(self) -> None:
        """Close the last :meth:`group`."""
        self._body.append("</g>")

    # ------------------------------------------------------------ output
    def render(self) -> str:
        """The standalone SVG document (with an XML declaration)."""
        w, h = fmt(self.width), fmt(self.height)
        head = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-family="{_attr(FONT)}" role="img">'
        )
        parts = [head]
        if self.title:
            parts.append(f"<title>{escape(self.title)}</title>")
        if self._defs:
            parts.append("<defs>" + "".join(self._defs.values()) + "</defs>")
        parts.append(f'<rect width="{w}" height="{h}" fill="#ffffff"/>')
        parts.extend(self._body)
        parts.append("</svg>\n")
        return "\n".join(parts)


@dataclass
class Panel:
    """One plot area of an :class:`Svg`: the data scales ``x`` and ``y`` (whose pixel
    ranges are the area's edges) and the methods that draw its furniture."""

    svg: Svg
    x: Scale
    y: Scale

    @property
    def left(self) -> float:
        return min(self.x.p0, self.x.p1)

    @property
    def right(self) -> float:
        return max(self.x.p0, self.x.p1)

    @property
    def top(self) -> float:
        return min(self.y.p0, self.y.p1)

    @property
    def bottom(self) -> float:
        return max(self.y.p0, self.y.p1)

    def clip(self) -> str:
        """A clip path of the plot area; returns its ``url(#...)``."""
        return self.svg.clip_rect(
            "plot-area", self.left, self.top, self.right - self.left, self.bottom - self.top
        )

    def x_axis(
        self,
        ticks: Sequence[tuple[float, str]],
        label: str = "",
        *,
        minor: Sequence[float] = (),
        rotate: float = 0.0,
    ) -> None:
        """Bottom spine, ticks with labels (value, text) and the axis label below."""
        s, y0 = self.svg, self.bottom
        s.line(self.left, y0, self.right, y0, cls="spine")
        for v in minor:
            px = self.x(v)
            s.line(px, y0, px, y0 + 3, width=0.8)
        deepest = 0.0
        for v, text in ticks:
            px = self.x(v)
            s.line(px, y0, px, y0 + 5, cls="tick")
            if rotate:
                s.text(px + 3, y0 + 15, text, anchor="end", rotate=-rotate, cls="xtick")
                deepest = max(deepest, text_width(text, TICK_PX) * math.sin(math.radians(rotate)))
            else:
                s.text(px, y0 + 18, text, anchor="middle", cls="xtick")
        if label:
            s.text(
                (self.left + self.right) / 2,
                y0 + 36 + deepest,
                label,
                size=LABEL_PX,
                anchor="middle",
                cls="xlabel",
            )

    def y_axis(self, ticks: Sequence[tuple[float, str]], label: str = "") -> None:
        """Left spine, ticks with labels (value, text) and the rotated axis label."""
        s, x0 = self.svg, self.left
        s.line(x0, self.top, x0, self.bottom, cls="spine")
        widest = 0.0
        for v, text in ticks:
            py = self.y(v)
            s.line(x0 - 5, py, x0, py, cls="tick")
            s.text(x0 - 8, py + 4, text, anchor="end", cls="ytick")
            widest = max(widest, text_width(text, TICK_PX))
        if label:
            lx = max(x0 - 16 - widest, 12.0)
            s.text(
                lx,
                (self.top + self.bottom) / 2,
                label,
                size=LABEL_PX,
                anchor="middle",
                rotate=-90,
                cls="ylabel",
            )

    def title(self, text: str) -> None:
        """Bold title above the plot area, left-aligned with it."""
        self.svg.text(self.left, self.top - 12, text, size=TITLE_PX, weight="bold", cls="title")

    def note(self, text: str) -> None:
        """A grey note in the middle of the plot area (for an empty plot)."""
        self.svg.text(
            (self.left + self.right) / 2,
            (self.top + self.bottom) / 2 + 5,
            text,
            size=14,
            anchor="middle",
            fill=MUTED,
            cls="note",
        )

    def legend(
        self, items: Sequence[LegendItem], x: float, y: float, title: str | None = None
    ) -> None:
        """A legend with its top-left corner at ``(x, y)`` px: one row per item."""
        s = self.svg
        row = LEGEND_PX + 6
        if title:
            s.text(x, y + LEGEND_PX, title, size=LEGEND_PX, weight="bold", cls="legend-title")
            y += row
        for item in items:
            mid = y + row / 2 - 1
            if item.dash is not None:
                s.line(x, mid, x + 18, mid, item.fill, 1.5, dash=item.dash or None)
            else:
                s.rect(
                    x,
                    mid - 5,
                    18,
                    10,
                    item.fill,
                    opacity=item.opacity,
                    stroke=item.stroke,
                    stroke_width=0.8,
                )
                if item.hatch:
                    s.rect(x, mid - 5, 18, 10, s.hatch(item.stroke or MUTED))
            s.text(x + 24, mid + 4, item.label, size=LEGEND_PX, cls="legend")
            y += row
