"""The report's plots, drawn with matplotlib and returned as standalone SVG text.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot, no
global backend switch, safe in threads); text is drawn as paths, so the SVG needs
no font and looks the same everywhere and in print. Colours follow the Okabe-Ito
palette, which stays distinguishable with colour-blindness and in greyscale print.

Every function takes plain numbers (epoch seconds UTC, g, counts) and a
:class:`~pipeline.report_data.LocalClock` for local-time axes, and draws empty axes
with a note when there is nothing to show.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from pipeline.report_data import LocalClock

#: Colour of each pattern label (Okabe-Ito).
PATTERN_COLOURS = {
    "random": "#0072B2",
    "periodic": "#D55E00",
    "clustered": "#009E73",
    "insufficient": "#999999",
}
#: Fill of each activity kind in the timeline.
ACTIVITY_STYLE = {
    "movement": ("#E69F00", 0.30, None, "movement (not counted)"),
    "rhythmic": ("#CC79A7", 0.30, None, "rhythmic movement (not counted)"),
    "nonwear": ("#777777", 0.25, "//", "sensor not worn"),
}
#: The pattern labels in plain words, for legends.
PATTERN_WORDS = {
    "random": "at random",
    "periodic": "regular rhythm",
    "clustered": "in clusters",
    "insufficient": "too few to tell",
}
JERK_COLOUR = "#1f3b73"
#: Above this many jerks the timeline's lines are drawn as an embedded bitmap, so the
#: SVG stays small.
RASTER_ABOVE = 2000
_RC = {
    "svg.fonttype": "path",
    "svg.hashsalt": "jerkcount",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
}


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "jerkcount"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue()


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height), dpi=100)
        fig.add_subplot()
    return fig


def _note(ax: Axes, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=11,
        color="#555555",
    )


def _local_time_axis(ax: Axes, clock: LocalClock, start: float, end: float) -> None:
    ticks = clock.hour_ticks(start, end, max_ticks=12)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _pos: clock.label(t)))
    ax.set_xlim(start, end)


def _log_seconds_axis(ax: Axes) -> None:
    marks = [
        (0.1, "0.1 s"),
        (1, "1 s"),
        (10, "10 s"),
        (60, "1 min"),
        (600, "10 min"),
        (3600, "1 h"),
        (36000, "10 h"),
    ]
    lo, hi = ax.get_xlim()
    ax.xaxis.set_major_locator(FixedLocator([m for m, _ in marks if lo <= m <= hi]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: dict(marks).get(v, f"{v:g}")))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def timeline_svg(
    clock: LocalClock,
    start: float,
    end: float,
    times: Sequence[float],
    sizes: Sequence[float],
    activity: Sequence[tuple[float, float, str]],
    recorded: tuple[float, float] | None = None,
) -> str:
    """The night from ``start`` to ``end`` (epoch s): one vertical line per jerk, its
    height the jerk's size in g; activity and non-wear spans shaded; time outside the
    recording ``recorded`` = (first, last sample) greyed, and the view narrowed to the
    recording plus half an hour each side. x axis in local time."""
    fig = _figure(10, 2.8)
    ax = fig.axes[0]
    with matplotlib.rc_context(_RC):
        handles = []
        view = (start, end)
        if recorded is not None and np.all(np.isfinite(recorded)) and recorded[1] > recorded[0]:
            view = (max(start, recorded[0] - 1800.0), min(end, recorded[1] + 1800.0))
            for a, b in ((start, recorded[0]), (recorded[1], end)):
                if b > a:
                    ax.axvspan(a, b, color="#eeeeee", lw=0)
            handles.append(Patch(color="#eeeeee", label="not recording"))
        seen: set[str] = set()
        for a, b, kind in activity:
            colour, alpha, hatch, label = ACTIVITY_STYLE.get(kind, ("#bbbbbb", 0.3, None, kind))
            ax.axvspan(
                max(a, start),
                min(b, end),
                facecolor=colour,
                alpha=alpha,
                hatch=hatch,
                edgecolor=colour if hatch else None,
                lw=0,
            )
            if kind not in seen:
                seen.add(kind)
                handles.append(Patch(facecolor=colour, alpha=alpha, hatch=hatch, label=label))
        t = np.asarray(times, dtype=float)
        g = np.asarray(sizes, dtype=float)
        ymax = float(np.nanmax(g)) * 1.1 if g.size and np.isfinite(g).any() else 1.0
        if t.size:
            raster = t.size > RASTER_ABOVE
            ax.vlines(t, 0, g, color=JERK_COLOUR, lw=0.9, rasterized=raster)
            ax.plot(t, g, "o", ms=2.5, color=JERK_COLOUR, rasterized=raster)
            handles.insert(0, Patch(color=JERK_COLOUR, label="a jerk (height = size)"))
        else:
            _note(ax, "No jerks this night")
        ax.set_ylim(0, ymax)
        ax.set_ylabel("jerk size (g)")
        _local_time_axis(ax, clock, *view)
        ax.set_xlabel(f"local time ({clock.offset_text(view[0])} at the start)")
        ax.set_title("The night: each jerk, and the times the wearer was moving")
        if handles:
            ax.legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(1.0, 1.0),
                frameon=False,
                fontsize=8,
            )
    return _svg(fig)


def hourly_svg(
    clock: LocalClock,
    hour_starts: Sequence[float],
    jerks: Sequence[float],
    minutes_valid: Sequence[float],
    patterns: Sequence[str],
    recorded_minutes: Sequence[float] | None = None,
) -> str:
    """Jerks per clock hour as bars, coloured by the hour's pattern label; hours with
    less than 30 valid minutes drawn faded and hatched. Only the hours from the first
    to the last one recorded are shown when ``recorded_minutes`` is given. x axis in
    local time."""
    fig = _figure(10, 2.6)
    ax = fig.axes[0]
    with matplotlib.rc_context(_RC):
        t = np.asarray(hour_starts, dtype=float)
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
        t, n, valid = t[ok], n[ok], valid[ok]
        pats = [str(p) for p, k in zip(patterns, ok, strict=True) if k]
        if t.size:
            colours = [PATTERN_COLOURS.get(p, "#999999") for p in pats]
            low = valid < 30
            ax.bar(
                t[~low],
                n[~low],
                width=3300,
                align="edge",
                color=[c for c, b in zip(colours, low, strict=True) if not b],
            )
            ax.bar(
                t[low],
                n[low],
                width=3300,
                align="edge",
                alpha=0.35,
                hatch="//",
                color=[c for c, b in zip(colours, low, strict=True) if b],
                edgecolor="#555555",
            )
            _local_time_axis(ax, clock, float(t[0]), float(t[-1]) + 3600)
            used = [p for p in PATTERN_COLOURS if p in pats]
            handles = [Patch(color=PATTERN_COLOURS[p], label=PATTERN_WORDS[p]) for p in used]
            if low.any():
                handles.append(
                    Patch(
                        facecolor="#cccccc",
                        hatch="//",
                        edgecolor="#555555",
                        label="under 30 valid min",
                    )
                )
            ax.legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(1.0, 1.0),
                frameon=False,
                fontsize=8,
                title="pattern in the hour",
                title_fontsize=8,
            )
        if not n.any():
            _note(ax, "No jerks this night")
            ax.set_ylim(0, 1)
        ax.set_ylabel("jerks")
        ax.set_xlabel("local time (hour starting)")
        ax.set_title("Jerks in each hour")
    return _svg(fig)


def intervals_svg(times: Sequence[float], period_s: float | None = None) -> str:
    """Histogram of the intervals between consecutive jerks (log-spaced bins, 8 per
    decade, from 0.1 s); a dashed line at the regular period when there is one."""
    fig = _figure(4.9, 2.8)
    ax = fig.axes[0]
    with matplotlib.rc_context(_RC):
        t = np.sort(np.asarray(times, dtype=float))
        iei = np.diff(t)
        iei = iei[iei > 0]
        hi = max(3600.0, float(iei.max()) * 1.05) if iei.size else 3600.0
        bins = np.logspace(-1, np.log10(hi), int(np.ceil(8 * (np.log10(hi) + 1))) + 1)
        ax.set_xscale("log")
        if iei.size:
            ax.hist(np.clip(iei, 0.1, None), bins=bins, color=JERK_COLOUR)
            if period_s is not None and np.isfinite(period_s) and period_s > 0:
                ax.axvline(period_s, color=PATTERN_COLOURS["periodic"], ls="--", lw=1.2)
                ax.text(
                    period_s,
                    0.97,
                    f" rhythm ≈ {period_s:.0f} s",
                    color="#8a3c00",
                    transform=ax.get_xaxis_transform(),
                    va="top",
                    fontsize=8,
                )
        else:
            _note(ax, "Fewer than two jerks: no intervals")
        ax.set_xlim(0.1, hi)
        _log_seconds_axis(ax)
        ax.set_xlabel("time from one jerk to the next")
        ax.set_ylabel("how often")
        ax.set_title("Time between jerks")
    return _svg(fig)


def amplitude_svg(sizes: Sequence[float]) -> str:
    """Histogram of jerk sizes in g on log-spaced bins, median and 90th percentile marked."""
    fig = _figure(4.9, 2.8)
    ax = fig.axes[0]
    with matplotlib.rc_context(_RC):
        g = np.asarray(sizes, dtype=float)
        g = g[np.isfinite(g) & (g > 0)]
        ax.set_xscale("log")
        if g.size:
            lo = min(0.01, float(g.min()) * 0.9)
            hi = max(1.0, float(g.max()) * 1.1)
            ax.hist(g, bins=np.logspace(np.log10(lo), np.log10(hi), 25), color=JERK_COLOUR)
            for q, ls, name in ((50, "-", "median"), (90, ":", "90th percentile")):
                v = float(np.percentile(g, q))
                ax.axvline(v, color="#000000", ls=ls, lw=1.2, label=f"{name} {v:.2f} g")
            ax.legend(loc="upper left", frameon=False, fontsize=8)
            ax.set_xlim(lo, hi)
        else:
            ax.set_xlim(0.01, 1.0)
            _note(ax, "No jerks this night")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        ax.set_xlabel("jerk size (g, log scale)")
        ax.set_ylabel("jerks")
        ax.set_title("How big the jerks were")
    return _svg(fig)


def trend_svg(
    labels: Sequence[str],
    rates: Sequence[float],
    patterns: Sequence[str],
    selected: int | None = None,
) -> str:
    """Jerks per valid hour, one bar per night, coloured by the night's pattern; the
    night the report is about outlined. Nights with no valid hour show as a gap."""
    n = len(labels)
    fig = _figure(10, 2.8)
    ax = fig.axes[0]
    with matplotlib.rc_context(_RC):
        x = np.arange(n)
        y = np.asarray(rates, dtype=float)
        colours = [PATTERN_COLOURS.get(str(p), "#999999") for p in patterns]
        bars = ax.bar(x, np.nan_to_num(y), color=colours, width=0.7)
        if selected is not None and 0 <= selected < n:
            bars[selected].set_edgecolor("#000000")
            bars[selected].set_linewidth(1.8)
        step = max(1, int(np.ceil(n / 14)))
        ax.set_xticks(
            x[::step],
            [str(s) for s in labels][::step],
            rotation=30 if n > 7 else 0,
            ha="right" if n > 7 else "center",
        )
        for xi, yi in zip(x, y, strict=True):
            if np.isfinite(yi):
                ax.text(xi, yi, f"{yi:.1f}", ha="center", va="bottom", fontsize=7)
            else:
                ax.text(
                    xi,
                    0,
                    "no data",
                    rotation=90,
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color="#555555",
                )
        used = [p for p in PATTERN_COLOURS if p in {str(q) for q in patterns}]
        ax.legend(
            handles=[Patch(color=PATTERN_COLOURS[p], label=PATTERN_WORDS[p]) for p in used],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
            fontsize=8,
            title="pattern",
            title_fontsize=8,
        )
        ax.set_xlim(-0.6, n - 0.4)
        ax.set_ylabel("jerks per valid hour")
        ax.set_xlabel("night (date it starts)")
        ax.set_title("Night after night")
    return _svg(fig)
