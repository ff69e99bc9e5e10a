"""``report.html``: a self-contained page about the last night, for a patient.

Built from the output folder of ``jerkcount process`` (``events.csv``,
``daily_summary.csv``, ``hourly.csv``, ``activity.csv``, optional ``summary.json``;
see :mod:`pipeline.report_data`). The page shows:

1. a headline for the night: how many jerks, how many per valid hour, and the
   pattern in plain words ("came at random", "came in a regular rhythm about
   every 24 s", "came in clusters", "too few jerks to tell a pattern (needs 30)"),
   with which part of the night was which when the hours differ;
2. a data-quality line: hours recorded and valid, gaps, non-wear, activity; and, where
   a chest strap felt the heart, how long beats held the trigger at twice their size;
   and the recordings' data-quality warnings (values in another unit, times that are
   not dates, a stuck axis...), so that a doubtful night is not read as a clean one;
3. plots: the night's timeline (each jerk as a line as tall as its size, activity
   and non-wear shaded), jerks per hour, the time between jerks (log-spaced
   histogram), the jerk sizes, and the trend over nights when there are several;
4. a table of all nights, and (folded) the recordings and parameters used.

Times are shown in the night's local time, taken from the UTC offsets in the files.
The page opens from disk with no network: plots are inline SVG ``data:`` images,
CSS and script are inline, and a Content-Security-Policy forbids any fetch.

Public API: :func:`render_report` (pure: data in, HTML out) and :func:`write_report`
(reads a folder, writes ``report.html`` atomically).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import __version__
from pipeline import report_html as H
from pipeline import report_plots as P
from pipeline.atomic import atomic_write
from pipeline.events import jerks_text
from pipeline.pattern_stats import FreeAxis
from pipeline.pulse import RELIABLE_HZ
from pipeline.report_data import (
    LocalClock,
    NightView,
    ReportData,
    iso_epoch,
    load_report_data,
)

log = logging.getLogger(__name__)

REPORT_NAME = "report.html"


# --------------------------------------------------------------------------- numbers


def _num(value: object) -> float:
    """A float, NaN when missing or not a number."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return v


def _fmt(value: object, digits: int = 1, unit: str = "") -> str:
    v = _num(value)
    if not math.isfinite(v):
        return "–"
    return f"{v:.{digits}f}{unit}"


def _count(value: object) -> int:
    v = _num(value)
    return int(round(v)) if math.isfinite(v) else 0


def _minutes(value: object) -> str:
    """Minutes in words: ``12 min``, ``1.5 h`` from 90 minutes on, ``under 1 min`` for
    some time that rounds to 0 (so a night with a few seconds of gaps does not read as
    one without any), ``–`` when unknown."""
    v = _num(value)
    if not math.isfinite(v):
        return "–"
    if v > 0 and round(v) == 0:
        return "under 1 min"
    if v >= 90:
        return f"{v / 60:.1f} h"
    return f"{v:.0f} min"


def _text(value: object) -> str:
    """A cell as stripped lower-case text; ``""`` for a missing (NaN/None) cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip().lower()


def _p_value(value: object) -> str:
    v = _num(value)
    if not math.isfinite(v):
        return "–"
    return "< 0.01" if v < 0.01 else f"{v:.2f}"


def _period(value: object) -> str | None:
    v = _num(value)
    if not math.isfinite(v) or v <= 0:
        return None
    return f"{v:.1f} s" if v < 10 else f"{v:.0f} s"


# --------------------------------------------------------------------------- words


def pattern_phrase(row: Mapping[str, Any]) -> str:
    """The night's pattern in plain words, a full sentence, from a daily-summary row.

    >>> pattern_phrase({"pattern": "periodic", "period_s": 24.2})
    'They came in a regular rhythm, about every 24 s.'
    """
    label = _text(row.get("pattern"))
    if label == "periodic":
        period = _period(row.get("period_s"))
        return (
            f"They came in a regular rhythm, about every {period}."
            if period
            else "They came in a regular rhythm."
        )
    if label == "clustered":
        bursts, size = _count(row.get("bursts")), _num(row.get("mean_burst_size"))
        if bursts > 0 and math.isfinite(size):
            return (
                f"They came in clusters ({bursts} burst{'s' if bursts != 1 else ''}, "
                f"{size:.1f} jerks each on average)."
            )
        return "They came in clusters."
    if label == "random":
        return "They came at random: no regular rhythm and no clusters."
    if label == "insufficient":
        need = _count(row.get("pattern_min_events"))
        return (
            f"Too few jerks to tell a pattern (needs {need})."
            if need > 0
            else "Too few jerks to tell a pattern."
        )
    return f"Pattern: {label or 'not given'}."


def short_pattern(row: Mapping[str, Any]) -> str:
    """The pattern in two or three words, for the table of nights."""
    label = _text(row.get("pattern"))
    if label == "periodic":
        period = _period(row.get("period_s"))
        return f"regular, every {period}" if period else "regular rhythm"
    return {
        "clustered": "in clusters",
        "random": "at random",
        "insufficient": "too few to tell",
    }.get(label, label or "–")


def mixture_phrase(night: NightView, clock: LocalClock) -> str | None:
    """Which part of the night had which pattern, when the hours disagree, e.g.
    ``"Hour by hour: at random 23:00–02:00, regular 02:00–05:00."``; else ``None``."""
    h = night.hourly
    if h.empty or "pattern" not in h:
        return None
    runs: list[list[Any]] = []  # [label, start, end]
    starts, ends = h.num("_start").tolist(), h.num("_end").tolist()
    for start, end, label in zip(starts, ends, h.text("pattern"), strict=True):
        if label not in ("periodic", "clustered", "random") or not math.isfinite(start):
            continue
        if runs and runs[-1][0] == label and abs(runs[-1][2] - start) < 1:
            runs[-1][2] = end
        else:
            runs.append([label, start, end])
    if len({r[0] for r in runs}) < 2:
        return None
    words = {"periodic": "regular rhythm", "clustered": "in clusters", "random": "at random"}
    parts = [f"{words[r[0]]} {clock.label(r[1])}–{clock.label(r[2])}" for r in runs]
    return "Hour by hour: " + ", ".join(parts) + "."


def _kind_minutes(night: NightView, kind: str) -> float:
    a = night.activity
    if a.empty:
        return 0.0
    sel = np.array([k == kind for k in a.text("kind")], dtype=bool)
    ends, starts = a.num("end")[sel], a.num("start")[sel]
    overlap = np.minimum(ends, night.end) - np.maximum(starts, night.start)
    return float(np.clip(overlap, 0, None).sum() / 60.0)


def quality_line(night: NightView) -> str:
    """One sentence on data quality: hours recorded vs valid, gaps, non-wear, activity."""
    row = night.row
    nonwear = _num(row.get("nonwear_min"))
    if not math.isfinite(nonwear):
        nonwear = _kind_minutes(night, "nonwear")
    activity = _num(row.get("activity_min"))
    if not math.isfinite(activity):
        activity = _kind_minutes(night, "movement") + _kind_minutes(night, "rhythmic")
    parts = [
        f"Recorded {_fmt(row.get('hours_recorded'), 1, ' h')}, "
        f"of which {_fmt(row.get('hours_valid'), 1, ' h')} valid",
        f"gaps in the recording {_minutes(row.get('gap_min', math.nan))}",
        f"sensor not worn {_minutes(nonwear)}",
        f"moving (activity) {_minutes(activity)}",
    ]
    return "; ".join(parts) + ". Jerks are counted only in valid time."


#: what the low-rate strap warning says, which :func:`beats_line` says in plain words
_BEATS_WARNING = "beats are hard to tell from jerks"


def warnings_line(data: ReportData, night: NightView, beats_said: bool = False) -> str:
    """The data-quality warnings of the recordings that overlap this window, as one
    sentence (``""`` if none): values in another unit, times that are not dates, a
    stuck axis, a chest strap at a low rate... (``data_quality.recordings[].warnings`` in
    ``summary.json``, matched to the recordings' spans by path). With ``beats_said``
    the heartbeat line already gives the low-rate advice, and its warning is left out."""
    spans = {}
    for rec in data.summary.get("recordings", []) or []:
        if isinstance(rec, dict):
            spans[rec.get("path")] = (_num(rec.get("start")), _num(rec.get("end")))
    quality = data.summary.get("data_quality", {}) or {}
    found: list[str] = []
    for rec in quality.get("recordings", []) if isinstance(quality, dict) else []:
        if not isinstance(rec, dict):
            continue
        start, end = spans.get(rec.get("path"), (math.nan, math.nan))
        if not (min(end, night.end) > max(start, night.start)):  # (False for NaN)
            continue
        for text in rec.get("warnings", []) or []:
            if isinstance(text, str) and text not in found:
                if not (beats_said and _BEATS_WARNING in text):
                    found.append(text)
    if not found:
        return ""
    return "Check the recording: " + "; ".join(found) + "."


def beats_line(data: ReportData, night: NightView) -> str:
    """A sentence when beats held the detector's triggers in this window (``""`` if not):
    the ``pulse_min`` of each recording in ``summary.json`` that overlaps the window, in
    proportion to the overlap (a chest strap sees the heart; see pipeline/pulse.py)."""
    minutes = 0.0
    rates: list[float] = []
    for rec in data.summary.get("recordings", []) or []:
        if not isinstance(rec, dict):
            continue
        pulse, start, end = (_num(rec.get(k)) for k in ("pulse_min", "start", "end"))
        if not (pulse > 0 and end > start):  # (False for NaN)
            continue
        overlap = min(end, night.end) - max(start, night.start)
        if overlap > 0:
            minutes += pulse * overlap / (end - start)
            rates.append(_num(rec.get("fs_hz")))
    if minutes < 1.0:
        return ""
    text = (
        f"A heartbeat was in the data for {_minutes(minutes)} (a chest strap feels the "
        "heart): there a jerk had to be at least twice a heartbeat's size to count."
    )
    low = [fs for fs in rates if 0 < fs < RELIABLE_HZ]
    if low:
        text += (
            f" At {min(low):g} Hz beats are hard to tell from jerks, so some counted "
            "jerks may be beats: record at 100–200 Hz."
        )
    return text


def not_recorded(data: ReportData, night: NightView) -> list[tuple[float, float]]:
    """Times of the night (epoch s) without data, from ``summary.json``: between two
    recordings and in the recordings' gaps, sorted; ``[]`` without ``summary.json``."""
    spans = []
    for rec in data.summary.get("recordings", []) or []:
        if isinstance(rec, dict):
            a, b = _num(rec.get("start")), _num(rec.get("end"))
            if math.isfinite(a) and math.isfinite(b) and b > a:
                spans.append((a, b))
    spans.sort()
    holes = [(a[1], b[0]) for a, b in zip(spans, spans[1:], strict=False) if b[0] > a[1]]
    quality = data.summary.get("data_quality", {}) or {}
    gaps = (quality.get("gaps", []) or []) if isinstance(quality, dict) else []
    for gap in gaps:
        if isinstance(gap, dict):
            a, b = _num(gap.get("start")), _num(gap.get("end"))
            if math.isfinite(a) and math.isfinite(b) and b > a:
                holes.append((a, b))
    inside = [(max(a, night.start), min(b, night.end)) for a, b in sorted(holes)]
    return [(a, b) for a, b in inside if b > a]


def valid_time_positions(
    data: ReportData, night: NightView, recorded: tuple[float, float] | None
) -> np.ndarray:
    """The night's jerks (n,) as seconds of valid time since the night's start: time
    outside the recording ``recorded`` (first, last sample; epoch s), without data
    (:func:`not_recorded`) and in activity or non-wear is cut out, as the pattern
    analysis does, so the intervals between them are ``daily_summary.csv``'s
    (``iei_median_s`` ...). Jerks inside cut-out time are left out, as there."""
    act = night.activity
    cut = [(float(a), float(b)) for a, b in zip(act.num("start"), act.num("end"), strict=True)]
    cut += not_recorded(data, night)
    if recorded is not None:
        cut += [(night.start, recorded[0]), (recorded[1], night.end)]
    axis = FreeAxis(night.start, night.end, [(a, b) for a, b in cut if b > a])
    t = np.sort(night.events.num("time"))
    t = t[np.isfinite(t) & (t >= night.start) & (t < night.end)]
    return axis.to_free(t[axis.inside(t)])


def _window_text(night: NightView, clock: LocalClock) -> str:
    a, b = clock.wall(night.start), clock.wall(night.end)
    same_year = a.year == b.year
    fa = "%a %d %b" if same_year else "%a %d %b %Y"
    return f"{a.strftime(fa)} {a:%H:%M} to {b:%a %d %b %Y} {b:%H:%M}"


def _is_night(night: NightView, clock: LocalClock) -> bool:
    w = clock.wall(night.start)
    return not (w.hour == 0 and w.minute == 0)


# --------------------------------------------------------------------------- sections


def _headline(data: ReportData, night: NightView, is_last: bool) -> str:
    clock, row = data.clock, night.row
    word = "night" if _is_night(night, clock) else "day"
    title = f"Last {word}" if is_last else f"The {word} of {night.day}"
    zone = data.summary.get("time_zone")
    where = f" ({zone})" if isinstance(zone, str) and zone else ""
    jerks = _count(row.get("jerks"))
    valid = _num(row.get("hours_valid"))
    lines = [
        f'<p class="when">{H.esc(title)}: {H.esc(_window_text(night, clock))}{H.esc(where)}</p>'
    ]
    if not math.isfinite(valid) or valid <= 0:
        lines.append('<p class="big">No valid recording</p>')
        lines.append(f'<p class="pattern">{H.esc(f"No jerks could be counted this {word}.")}</p>')
    elif jerks == 0:
        lines.append('<p class="big"><span id="headline-jerks">0</span> jerks</p>')
        lines.append(
            f'<p class="pattern">No jerks were found this {word}, in '
            f"{H.esc(_fmt(valid, 1))} valid hours.</p>"
        )
    else:
        rate = _fmt(row.get("jerks_per_hour"), 1)
        lines.append(
            f'<p class="big"><span id="headline-jerks">{jerks}</span> '
            f'jerk{"s" if jerks != 1 else ""} <small>· <span id="headline-rate">{H.esc(rate)}'
            "</span> per hour</small></p>"
        )
        lines.append(f'<p class="pattern" id="headline-pattern">{H.esc(pattern_phrase(row))}</p>')
        mix = mixture_phrase(night, clock)
        if mix:
            lines.append(f'<p class="mixture">{H.esc(mix)}</p>')
    hours = _num(row.get("hours_in_window"))
    if math.isfinite(hours) and abs(hours - 24) > 0.01 and abs(hours - 24) <= 2:
        lines.append(f'<p class="dst">The clocks changed: this {word} had {hours:g} hours.</p>')
    lines.append(f'<p class="quality" id="quality">{H.esc(quality_line(night))}</p>')
    beats = beats_line(data, night)
    if beats:
        lines.append(f'<p class="quality" id="beats">{H.esc(beats)}</p>')
    warnings = warnings_line(data, night, beats_said=bool(beats))
    if warnings:
        lines.append(f'<p class="quality" id="warnings">{H.esc(warnings)}</p>')
    return '<section class="headline" aria-label="summary">' + "".join(lines) + "</section>"


def _figures(data: ReportData, night: NightView, selected: int) -> str:
    clock, ev, row = data.clock, night.events, night.row
    times = ev.num("time")
    sizes = ev.num("peak_g")
    a_t = night.activity
    act = [
        (float(a), float(b), str(k))
        for a, b, k in zip(a_t.num("start"), a_t.num("end"), a_t.text("kind"), strict=True)
    ]
    rs, re_ = row.get("recording_start"), row.get("recording_end")
    recorded = None
    if isinstance(rs, str) and isinstance(re_, str):
        try:
            recorded = (iso_epoch(rs), iso_epoch(re_))
        except ValueError:
            recorded = None
    kinds = {k: sum(1 for *_x, kk in act if kk == k) for k in ("movement", "rhythmic", "nonwear")}
    span = f"{clock.label(night.start)} to {clock.label(night.end)} local time"
    out = ["<h2>The night hour by hour</h2>"]
    out.append(
        H.figure(
            "timeline",
            P.timeline_svg(
                clock,
                night.start,
                night.end,
                times,
                sizes,
                act,
                recorded,
                not_recorded(data, night),
            ),
            f"Timeline of {night.day}, {span}: {jerks_text(len(times))} drawn as vertical lines "
            f"as tall as their size; {kinds['movement'] + kinds['rhythmic']} activity periods and "
            f"{kinds['nonwear']} non-wear periods shaded.",
            "Each line is one jerk; the taller the line, the bigger the jerk. Shaded: times the "
            "wearer was moving or the sensor was not worn; jerks are not counted there.",
        )
    )
    h = night.hourly
    hj = np.nan_to_num(h.num("jerks"), nan=0.0)
    busiest = ""
    if hj.size and hj.max() > 0:
        i = int(np.argmax(hj))
        busiest = f"; most in the hour from {clock.label(float(h.num('_start')[i]))}"
        busiest += f" ({jerks_text(int(hj[i]))})"
    pats = h.text("pattern") if "pattern" in h else [""] * len(h)
    out.append(
        H.figure(
            "hourly",
            P.hourly_svg(
                clock,
                h.num("_start"),
                hj,
                h.num("minutes_valid"),
                pats,
                h.num("minutes_recorded"),
                h.num("_end"),
            ),
            f"Bar chart of jerks in each clock hour of {night.day}{busiest}.",
            "Jerks counted in each clock hour; bar colour is the pattern within that hour. "
            "Faded bars: hours with less than 30 valid minutes.",
        )
    )
    valid_times = valid_time_positions(data, night, recorded)
    iei = np.diff(valid_times)
    med = f"; median {np.median(iei):.0f} s" if iei.size else "; no intervals"
    amp = (
        f"; median {np.median(sizes):.2f} g, 90th percentile {np.percentile(sizes, 90):.2f} g"
        if sizes.size
        else "; no jerks"
    )
    period = _num(row.get("period_s")) if _text(row.get("pattern")) == "periodic" else math.nan
    out.append('<div class="pair">')
    out.append(
        H.figure(
            "intervals",
            P.intervals_svg(valid_times, period if math.isfinite(period) else None),
            f"Histogram of the time between consecutive jerks, logarithmic bins{med}.",
            "Random jerks spread widely; a regular rhythm makes one tall peak; clusters add "
            "many short intervals on the left.",
        )
    )
    out.append(
        H.figure(
            "amplitude",
            P.amplitude_svg(sizes),
            f"Histogram of jerk sizes in g{amp}.",
            "Size is the peak acceleration above the background, in g (1 g = gravity).",
        )
    )
    out.append("</div>")
    daily = data.daily
    if len(daily) > 1:
        labels = daily.text("day")
        out.append("<h2>Night after night</h2>")
        out.append(
            H.figure(
                "trend",
                P.trend_svg(
                    labels,
                    daily.num("jerks_per_hour"),
                    daily.text("pattern"),
                    selected,
                ),
                f"Bar chart of jerks per valid hour over {len(daily)} nights, "
                f"from {labels[0]} to {labels[-1]}; bar colour is the night's pattern.",
                "Jerks per valid hour for every night; the outlined bar is the night above.",
            )
        )
    return "".join(out)


def _nights_table(data: ReportData, selected: int) -> str:
    rows = []
    for r in data.daily.rows():
        rows.append(
            [
                r["day"],
                _fmt(r.get("hours_recorded"), 1),
                _fmt(r.get("hours_valid"), 1),
                _count(r.get("jerks")),
                _fmt(r.get("jerks_per_hour"), 1),
                short_pattern(r),
                _p_value(r.get("pattern_p_value")),
                _fmt(r.get("amp_median_g"), 2),
                _fmt(r.get("activity_min"), 0),
                _fmt(r.get("nonwear_min"), 0),
            ]
        )
    return "<h2>All nights</h2>" + H.table(
        [
            "Night",
            "Hours recorded",
            "Hours valid",
            "Jerks",
            "Per valid hour",
            "Pattern",
            "Pattern p",
            "Median size (g)",
            "Activity (min)",
            "Not worn (min)",
        ],
        rows,
        text_columns=(0, 5),
        selected=selected,
    )


def _flatten(value: Any, prefix: str = "", limit: int = 300) -> Iterable[tuple[str, str]]:
    """(dotted key, text) pairs of nested dicts and lists, at most ``limit``."""
    out: list[tuple[str, str]] = []

    def walk(v: Any, key: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(v, Mapping):
            for k, sub in v.items():
                walk(sub, f"{key}.{k}" if key else str(k))
        elif isinstance(v, list) and any(isinstance(x, Mapping | list) for x in v):
            for i, sub in enumerate(v):
                walk(sub, f"{key}[{i}]")
        else:
            out.append((key, str(v)))

    walk(value, prefix)
    return out


def _details(data: ReportData) -> str:
    s = data.summary
    parts = ["<details><summary>For researchers: recordings, parameters, data quality</summary>"]
    parts.append(
        f"<p>Folder: {H.esc(data.out_dir.name)}. Report made by jerkcount "
        f"{H.esc(__version__)}; results by jerkcount "
        f"{H.esc(s.get('jerkcount_version', 'unknown'))}; time zone "
        f"{H.esc(s.get('time_zone', 'from the offsets in the files'))}.</p>"
    )
    for key, title in (
        ("recordings", "Recordings"),
        ("parameters", "Parameters"),
        ("data_quality", "Data quality"),
    ):
        if key in s:
            rows = list(_flatten(s[key]))
            if rows:
                parts.append(f"<h3>{title}</h3>" + H.table(["key", "value"], rows, (0, 1)))
    parts.append("</details>")
    return "".join(parts)


# --------------------------------------------------------------------------- public API


def render_report(data: ReportData, night: str | None = None) -> str:
    """The report as an HTML string (pure: no file is read or written).

    Parameters
    ----------
    data : the output folder's contents, from :func:`pipeline.report_data.load_report_data`.
    night : the ``day`` label of the window to feature (e.g. ``"2026-03-28"``); default
        the last window holding any recording.

    Raises :class:`~pipeline.errors.InputError` for an unknown ``night``.
    """
    view = data.night(night)
    days = data.daily.text("day")
    selected = len(days) - 1 - days[::-1].index(view.day)
    is_last = night is None or selected == len(days) - 1
    body = [
        f"<h1>jerkcount report · {H.esc(view.day)}</h1>",
        "<main>",
        _headline(data, view, is_last),
        _figures(data, view, selected),
        _nights_table(data, selected),
        _details(data),
        "</main>",
        '<p class="muted">Made by jerkcount from a wearable accelerometer. It counts brief, '
        "sudden movements that look like jerks; it is not a diagnosis. Show it to your "
        "doctor.</p>",
    ]
    return H.page(f"jerkcount report – {view.day}", "\n".join(body))


def write_report(out_dir: Path, night: str | None = None) -> Path:
    """Read the output folder ``out_dir`` and write ``out_dir/report.html`` atomically.

    Returns the path written. Raises :class:`~pipeline.errors.InputError` when a CSV
    is missing or lacks a contract column, or ``night`` is not in the summary.
    """
    out_dir = Path(out_dir)
    html_text = render_report(load_report_data(out_dir), night)
    path = out_dir / REPORT_NAME
    with atomic_write(path, "w", newline="\n") as fh:
        fh.write(html_text)
    log.info("wrote %s (%d kB)", path, len(html_text) // 1024)
    return path
