"""The report's plots as standalone SVG documents, written with :mod:`pipeline.svg`.

Five plots: the night's timeline (each jerk a vertical line as tall as its size,
activity and non-wear shaded), jerks per clock hour, the time between jerks
(log-spaced histogram), the jerk sizes, and the trend over nights. Colours follow
the Okabe-Ito palette, which stays distinguishable with colour-blindness and in
greyscale print.

Every function takes plain numbers (epoch seconds UTC, g, counts) and a
:class:`~pipeline.report_data.LocalClock` for local-time axes, returns the SVG text,
and draws empty axes with a note when there is nothing to show. Sizes are in CSS
pixels: the wide plots fill the report's column (944 px), the histograms half of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pipeline.report_data import LocalClock
from pipeline.svg import (
    LEGEND_PX,
    LegendItem,
    Panel,
    Scale,
    Svg,
    decade_ticks,
    nice_ticks,
    text_width,
)

#: Colour of each pattern label (Okabe-Ito).
PATTERN_COLOURS = {
    "random": "#0072B2",
    "periodic": "#D55E00",
    "clustered": "#009E73",
    "insufficient": "#999999",
}
#: Fill of each activity kind in the timeline: (colour, opacity, hatched, legend label).
ACTIVITY_STYLE: dict[str, tuple[str, float, bool, str]] = {
    "movement": ("#E69F00", 0.30, False, "movement (not counted)"),
    "rhythmic": ("#CC79A7", 0.30, False, "rhythmic movement (not counted)"),
    "nonwear": ("#777777", 0.25, True, "sensor not worn"),
}
#: The pattern labels in plain words, for legends.
PATTERN_WORDS = {
    "random": "at random",
    "periodic": "regular rhythm",
    "clustered": "in clusters",
    "insufficient": "too few to tell",
}
JERK_COLOUR = "#1f3b73"
NOT_RECORDING = "#eeeeee"
OTHER = "#999999"

#: Wide plots (timeline, hourly, trend): size and plot-area margins, px.
WIDE_W, WIDE_H = 944.0, 290.0
#: Half-width plots (the two histograms), px.
HALF_W, HALF_H = 460.0, 290.0
TOP = 34.0
BOTTOM = 50.0
LEFT = 62.0
#: Room right of a wide plot for its legend (swatch, gap, the longest label), px; the
#: same for every wide plot so their time axes line up.
LEGEND_ROOM = (
    18.0
    + 24.0
    + 4.0
    + max(
        text_width(label, LEGEND_PX)
        for label in [*(v[3] for v in ACTIVITY_STYLE.values()), *PATTERN_WORDS.values()]
    )
)
#: Bar width of an hour, s (leaves a gap between neighbouring hours).
HOUR_BAR_S = 3300.0


def _num_text(v: float) -> str:
    """A tick value as short text (``0``, ``0.2``, ``2.5``, ``10``)."""
    return f"{round(v, 9):g}"


def _y_ticks(ymax: float, integer: bool = False) -> list[tuple[float, str]]:
    ticks = nice_ticks(0.0, ymax)
    if integer:
        ticks = [v for v in ticks if float(v).is_integer()] or [0.0]
    return [(v, _num_text(v)) for v in ticks]


def _wide_panel(svg: Svg, xlo: float, xhi: float, ymax: float, bottom: float = BOTTOM) -> Panel:
    return Panel(
        svg,
        Scale(xlo, xhi, LEFT, WIDE_W - LEGEND_ROOM),
        Scale(0.0, ymax, svg.height - bottom, TOP),
    )


def _time_ticks(clock: LocalClock, start: float, end: float) -> list[tuple[float, str]]:
    return [(t, clock.label(t)) for t in clock.hour_ticks(start, end, max_ticks=12)]


def _finite_max(values: np.ndarray) -> float | None:
    v = values[np.isfinite(values)]
    return float(v.max()) if v.size else None


def timeline_svg(
    clock: LocalClock,
    start: float,
    end: float,
    times: Sequence[float],
    sizes: Sequence[float],
    activity: Sequence[tuple[float, float, str]],
    recorded: tuple[float, float] | None = None,
    holes: Sequence[tuple[float, float]] = (),
) -> str:
    """The night from ``start`` to ``end`` (epoch s): one vertical line per jerk, its
    height the jerk's size in g; activity and non-wear spans shaded; time outside the
    recording ``recorded`` = (first, last sample) greyed, and the view narrowed to the
    recording plus half an hour each side; ``holes`` (epoch s), times inside it without
    data (between two recordings, in a gap), greyed too. x axis in local time."""
    view = (float(start), float(end))
    rec_ok = (
        recorded is not None and bool(np.all(np.isfinite(recorded))) and recorded[1] > recorded[0]
    )
    if rec_ok:
        assert recorded is not None
        view = (max(view[0], recorded[0] - 1800.0), min(view[1], recorded[1] + 1800.0))
    t = np.asarray(times, dtype=float)
    g = np.asarray(sizes, dtype=float)
    top = _finite_max(g) if g.size else None
    ymax = top * 1.1 if top is not None and top > 0 else 1.0
    svg = Svg(WIDE_W, WIDE_H, "The night: each jerk, and the times the wearer was moving")
    panel = _wide_panel(svg, view[0], view[1], ymax)
    x, y = panel.x, panel.y
    legend: list[LegendItem] = []

    svg.group(clip=panel.clip())
    if rec_ok:
        assert recorded is not None
        outside = [(view[0], recorded[0]), *holes, (recorded[1], view[1])]
        for a, b in ((max(a, view[0]), min(b, view[1])) for a, b in outside):
            if b > a:
                x0, x1 = x.clip(a), x.clip(b)
                svg.rect(
                    x0,
                    panel.top,
                    x1 - x0,
                    panel.bottom - panel.top,
                    NOT_RECORDING,
                    cls="span-norecording",
                )
        legend.append(LegendItem("not recording", NOT_RECORDING))
    seen: set[str] = set()
    for a, b, kind in activity:
        colour, alpha, hatched, label = ACTIVITY_STYLE.get(kind, ("#bbbbbb", 0.3, False, kind))
        x0, x1 = x.clip(max(a, view[0])), x.clip(min(b, view[1]))
        if x1 > x0:
            h = panel.bottom - panel.top
            svg.rect(x0, panel.top, x1 - x0, h, colour, opacity=alpha, cls=f"span-{kind}")
            if hatched:
                svg.rect(x0, panel.top, x1 - x0, h, svg.hatch(colour))
        if kind not in seen:
            seen.add(kind)
            legend.append(
                LegendItem(label, colour, alpha, hatched, stroke=colour if hatched else None)
            )

    keep = np.isfinite(t) & np.isfinite(g) & (t >= view[0]) & (t <= view[1])
    if keep.any():
        xs, ys = x.many(t[keep]), y.many(np.clip(g[keep], 0.0, None))
        base = panel.bottom
        svg.path(
            "".join(f"M{a:.1f} {base:.1f}V{b:.1f}" for a, b in zip(xs, ys, strict=True)),
            stroke=JERK_COLOUR,
            width=1.0,
            cls="jerks",
        )
        svg.path(
            "".join(f"M{a:.1f} {b:.1f}h0.01" for a, b in zip(xs, ys, strict=True)),
            stroke=JERK_COLOUR,
            width=4.5,
            cap="round",
            cls="jerk-dots",
        )
    svg.end_group()
    if t.size:
        legend.insert(0, LegendItem("a jerk (height = size)", JERK_COLOUR))
    else:
        panel.note("No jerks this night")

    panel.y_axis(_y_ticks(ymax), "jerk size (g)")
    panel.x_axis(
        _time_ticks(clock, *view), f"local time ({clock.offset_text(view[0])} at the start)"
    )
    panel.title("The night: each jerk, and the times the wearer was moving")
    panel.legend(legend, panel.right + 18, panel.top)
    return svg.render()


def hourly_svg(
    clock: LocalClock,
    hour_starts: Sequence[float],
    jerks: Sequence[float],
    minutes_valid: Sequence[float],
    patterns: Sequence[str],
    recorded_minutes: Sequence[float] | None = None,
    hour_ends: Sequence[float] | None = None,
) -> str:
    """Jerks per clock hour as bars, coloured by the hour's pattern label; hours with
    less than 30 valid minutes drawn faded and hatched. Only the hours from the first
    to the last one recorded are shown when ``recorded_minutes`` is given. x axis in
    local time. ``hour_starts``/``hour_ends`` are epoch s; without ends every hour is
    3600 s, with them a shorter hour (cut by a half-hour clock change or the window's
    end) gets a bar in proportion, so it does not reach into the next hour."""
    t = np.asarray(hour_starts, dtype=float)
    length = np.full(t.shape, 3600.0)
    if hour_ends is not None:
        ends = np.asarray(hour_ends, dtype=float) - t
        length = np.where(np.isfinite(ends) & (ends > 0), ends, length)
    n = np.nan_to_num(np.asarray(jerks, dtype=float))
    valid = np.nan_to_num(np.asarray(minutes_valid, dtype=float))
    ok = np.isfinite(t)
    if recorded_minutes is not None:
        rec = np.nan_to_num(np.asarray(recorded_minutes, dtype=float)) > 0
        if (rec & ok).any() or n.any():
            idx = np.flatnonzero((rec & ok) | (n > 0))
            span = np.zeros_like(ok)
            span[idx[0] : idx[-1] + 1] = True
            ok &= span
    t, n, valid, length = t[ok], n[ok], valid[ok], length[ok]
    pats = [str(p) for p, k in zip(patterns, ok, strict=True) if k]

    ymax = float(n.max()) * 1.08 if n.size and n.any() else 1.0
    svg = Svg(WIDE_W, WIDE_H - 20, "Jerks in each hour")
    xlo, xhi = (float(t[0]), float(t[-1] + length[-1])) if t.size else (0.0, 1.0)
    panel = _wide_panel(svg, xlo, xhi, ymax)
    x, y = panel.x, panel.y
    low = valid < 30
    for ti, li, ni, pat, faded in zip(t, length, n, pats, low, strict=True):
        if ni <= 0:
            continue
        colour = PATTERN_COLOURS.get(pat, OTHER)
        x0, x1, y1 = x(ti), x(ti + li * HOUR_BAR_S / 3600.0), y(ni)
        if faded:
            svg.rect(
                x0,
                y1,
                x1 - x0,
                panel.bottom - y1,
                colour,
                opacity=0.35,
                stroke="#555555",
                stroke_width=0.8,
                cls="bar bar-low",
            )
            svg.rect(x0, y1, x1 - x0, panel.bottom - y1, svg.hatch())
        else:
            svg.rect(x0, y1, x1 - x0, panel.bottom - y1, colour, cls=f"bar bar-{pat}")
    drawn = n > 0
    if drawn.any():  # a legend entry for what is drawn
        shown = {p for p, d in zip(pats, drawn, strict=True) if d}
        items = [
            LegendItem(PATTERN_WORDS[p], PATTERN_COLOURS[p]) for p in PATTERN_COLOURS if p in shown
        ]
        if (low & drawn).any():
            items.append(LegendItem("under 30 valid min", "#cccccc", hatch=True, stroke="#555555"))
        panel.legend(items, panel.right + 18, panel.top, title="pattern in the hour")
    if not n.any():
        panel.note("No jerks this night")
    panel.y_axis(_y_ticks(ymax, integer=True), "jerks")
    panel.x_axis(_time_ticks(clock, xlo, xhi) if t.size else [], "local time (hour starting)")
    panel.title("Jerks in each hour")
    return svg.render()


def _half_panel(svg: Svg, x: Scale, ymax: float) -> Panel:
    return Panel(svg, x, Scale(0.0, ymax, svg.height - BOTTOM, TOP))


def _histogram_bars(panel: Panel, edges: np.ndarray, counts: np.ndarray) -> None:
    x, y = panel.x, panel.y
    for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True):
        if c > 0:
            x0, x1, y1 = x(a), x(b), y(c)
            panel.svg.rect(
                x0,
                y1,
                x1 - x0,
                panel.bottom - y1,
                JERK_COLOUR,
                stroke="#ffffff",
                stroke_width=0.5,
                cls="bar",
            )


#: Tick marks of the interval axis: (s, label).
SECONDS_MARKS = [
    (0.1, "0.1 s"),
    (1.0, "1 s"),
    (10.0, "10 s"),
    (60.0, "1 min"),
    (600.0, "10 min"),
    (3600.0, "1 h"),
    (36000.0, "10 h"),
]


def intervals_svg(times: Sequence[float], period_s: float | None = None) -> str:
    """Histogram of the intervals between consecutive jerks (log-spaced bins, 8 per
    decade, from 0.1 s); a dashed line at the regular period when there is one."""
    t = np.sort(np.asarray(times, dtype=float))
    iei = np.diff(t)
    iei = iei[iei > 0]
    hi = max(3600.0, float(iei.max()) * 1.05) if iei.size else 3600.0
    edges = np.logspace(-1, np.log10(hi), int(np.ceil(8 * (np.log10(hi) + 1))) + 1)
    counts = np.histogram(np.clip(iei, 0.1, None), bins=edges)[0] if iei.size else None
    ymax = float(counts.max()) * 1.08 if counts is not None and counts.max() > 0 else 1.0
    svg = Svg(HALF_W, HALF_H, "Time between jerks")
    panel = _half_panel(svg, Scale(0.1, hi, LEFT - 6, HALF_W - 14, log=True), ymax)
    if counts is not None:
        _histogram_bars(panel, edges, counts)
        if period_s is not None and np.isfinite(period_s) and 0.1 <= period_s <= hi:
            px = panel.x(period_s)
            svg.line(
                px,
                panel.top,
                px,
                panel.bottom,
                PATTERN_COLOURS["periodic"],
                1.2,
                dash="5 3",
                cls="period",
            )
            text = f"rhythm ≈ {period_s:.0f} s"
            right = px + 4 + text_width(text, 11) > panel.right
            svg.text(
                px - 4 if right else px + 4,
                panel.top + 11,
                text,
                size=11,
                anchor="end" if right else "start",
                fill="#8a3c00",
            )
    else:
        panel.note("Fewer than two jerks: no intervals")
    panel.y_axis(_y_ticks(ymax, integer=True), "how often")
    panel.x_axis(
        [(v, s) for v, s in SECONDS_MARKS if 0.1 <= v <= hi], "time from one jerk to the next"
    )
    panel.title("Time between jerks")
    return svg.render()


def amplitude_svg(sizes: Sequence[float]) -> str:
    """Histogram of jerk sizes in g on log-spaced bins, median and 90th percentile marked."""
    g = np.asarray(sizes, dtype=float)
    g = g[np.isfinite(g) & (g > 0)]
    lo, hi = 0.01, 1.0
    counts = edges = None
    if g.size:
        lo = min(0.01, float(g.min()) * 0.9)
        hi = max(1.0, float(g.max()) * 1.1)
        edges = np.logspace(np.log10(lo), np.log10(hi), 25)
        counts = np.histogram(g, bins=edges)[0]
    ymax = float(counts.max()) * 1.08 if counts is not None else 1.0
    svg = Svg(HALF_W, HALF_H, "How big the jerks were")
    panel = _half_panel(svg, Scale(lo, hi, LEFT - 6, HALF_W - 14, log=True), ymax)
    if counts is not None and edges is not None:
        _histogram_bars(panel, edges, counts)
        items = []
        for q, dash, name in ((50, "", "median"), (90, "2 2", "90th percentile")):
            v = float(np.percentile(g, q))
            px = panel.x(v)
            svg.line(
                px, panel.top, px, panel.bottom, "#000000", 1.3, dash=dash or None, cls=f"q{q}"
            )
            items.append(LegendItem(f"{name} {v:.2f} g", "#000000", dash=dash))
        panel.legend(items, panel.left + 8, panel.top)
    else:
        panel.note("No jerks this night")
    major, minor = decade_ticks(lo, hi)
    panel.y_axis(_y_ticks(ymax, integer=True), "jerks")
    panel.x_axis([(v, f"{v:g}") for v in major], "jerk size (g, log scale)", minor=minor)
    panel.title("How big the jerks were")
    return svg.render()


def trend_svg(
    labels: Sequence[str],
    rates: Sequence[float],
    patterns: Sequence[str],
    selected: int | None = None,
) -> str:
    """Jerks per valid hour, one bar per night, coloured by the night's pattern; the
    night the report is about outlined. Nights with no valid hour show as a gap."""
    n = len(labels)
    y = np.asarray(rates, dtype=float)
    top = _finite_max(y) if y.size else None
    ymax = top * 1.12 if top is not None and top > 0 else 1.0
    rotate = 30.0 if n > 7 else 0.0
    bottom = BOTTOM + (28.0 if rotate else 0.0)
    svg = Svg(WIDE_W, WIDE_H + (28.0 if rotate else 0.0), "Night after night")
    panel = _wide_panel(svg, -0.6, max(n, 1) - 0.4, ymax, bottom)
    xs, ys = panel.x, panel.y
    for i, (yi, pat) in enumerate(zip(y, patterns, strict=True)):
        x0, x1 = xs(i - 0.35), xs(i + 0.35)
        if math.isfinite(yi):
            y1 = ys(max(yi, 0.0))
            chosen = i == selected
            svg.rect(
                x0,
                y1,
                x1 - x0,
                panel.bottom - y1,
                PATTERN_COLOURS.get(str(pat), OTHER),
                stroke="#000000" if chosen else None,
                stroke_width=1.8,
                cls="bar bar-selected" if chosen else "bar",
            )
            svg.text(xs(i), y1 - 3, f"{yi:.1f}", size=10, anchor="middle", cls="value")
        else:
            svg.text(
                xs(i) + 3,
                panel.bottom - 4,
                "no data",
                size=10,
                fill="#555555",
                rotate=-90,
                cls="value",
            )
    step = max(1, int(np.ceil(n / 14)))
    panel.y_axis(_y_ticks(ymax), "jerks per valid hour")
    panel.x_axis(
        [(i, str(labels[i])) for i in range(0, n, step)], "night (date it starts)", rotate=rotate
    )
    used = [p for p in PATTERN_COLOURS if p in {str(q) for q in patterns}]
    panel.legend(
        [LegendItem(PATTERN_WORDS[p], PATTERN_COLOURS[p]) for p in used],
        panel.right + 18,
        panel.top,
        title="pattern",
    )
    panel.title("Night after night")
    return svg.render()
