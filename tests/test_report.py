"""report.html: headline numbers, plots with alt text, no network, escaping, local time,
empty nights, and a real headless chromium rendering it from disk with the network
blocked."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from browser import ChromiumMissing, dump_dom, find_chromium, screenshot
from PIL import Image
from report_fixture import NightSpec, build_output

from pipeline import report_plots as P
from pipeline.errors import InputError
from pipeline.report import not_recorded, pattern_phrase, render_report, write_report
from pipeline.report_data import LocalClock, load_report_data
from pipeline.svg import Scale, Svg, decade_ticks, fmt, nice_ticks

EVIL = '<script>alert("x")</script><img src="https://evil.example/x.png">&'
PLOT_IDS = ["timeline", "hourly", "intervals", "amplitude", "trend"]


@pytest.fixture(scope="module")
def three_nights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three nights in Berlin; the last (42 random jerks) spans the spring DST change."""
    out = tmp_path_factory.mktemp("three") / "out"
    nights = [
        NightSpec(date(2026, 3, 26), "clustered", 60, seed=1),
        NightSpec(date(2026, 3, 27), "periodic", 50, period_s=24.0, seed=2),
        NightSpec(date(2026, 3, 28), "random", 42, seed=3),
    ]
    return build_output(out, nights, device=EVIL)


@pytest.fixture(scope="module")
def report_html(three_nights: Path) -> str:
    return write_report(three_nights).read_text(encoding="utf-8")


def _imgs(html: str) -> list[str]:
    return re.findall(r"<img\b[^>]*>", html)


def test_headline_has_exact_count_rate_and_pattern(three_nights: Path, report_html: str) -> None:
    row = (three_nights / "daily_summary.csv").read_text().splitlines()[-1].split(",")
    # the fixture: 42 jerks in 7.0 h recorded (23-hour DST night) - 16 min activity,
    # 40 min non-wear and 3 min gap = 6.017 valid hours -> 6.981/h
    assert row[:8] == [
        "2026-03-28",
        "2026-03-28T12:00:00.000+01:00",
        "2026-03-29T12:00:00.000+02:00",
        "7.000",
        "6.017",
        "42",
        "6.981",
        "random",
    ]
    assert '<span id="headline-jerks">42</span> jerks' in report_html
    assert '<span id="headline-rate">7.0</span> per hour' in report_html
    assert "They came at random" in report_html
    assert "Last night: Sat 28 Mar 12:00 to Sun 29 Mar 2026 12:00 (Europe/Berlin)" in report_html
    assert "this night had 23 hours" in report_html
    assert (
        "Recorded 7.0 h, of which 6.0 h valid; gaps in the recording 3 min; sensor not "
        "worn 40 min; moving (activity) 16 min."
    ) in report_html


def test_one_image_per_plot_with_alt_text(report_html: str) -> None:
    imgs = _imgs(report_html)
    assert len(imgs) == len(PLOT_IDS)
    for plot_id, tag in zip(PLOT_IDS, imgs, strict=True):
        assert f'id="plot-{plot_id}"' in tag
        alt = re.search(r'alt="([^"]*)"', tag)
        assert alt is not None and len(alt.group(1)) > 30
        assert 'src="data:image/svg+xml;base64,' in tag
    timeline_alt = re.search(r'alt="([^"]*)"', imgs[0]).group(1)  # type: ignore[union-attr]
    assert "42 jerks" in timeline_alt
    svg = base64.b64decode(re.search(r"base64,([^\"]+)", imgs[0]).group(1))  # type: ignore[union-attr]
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg


class _Refs(HTMLParser):
    """Every tag's resource attributes (src, href, srcset, xlink:href, ...) and tags."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "xlink:href", "data", "poster", "action"):
                self.refs.append(value or "")


def _parse(html: str) -> _Refs:
    parser = _Refs()
    parser.feed(html)
    return parser


def test_no_network_references(report_html: str) -> None:
    refs = _parse(report_html).refs
    assert len(refs) == len(PLOT_IDS)
    assert all(r.startswith("data:image/svg+xml;base64,") for r in refs)
    assert "http://" not in "".join(refs) and "https://" not in "".join(refs)
    # nor inside the embedded SVGs (the xmlns is a name, not a fetch)
    for r in refs:
        svg = base64.b64decode(r.split(",", 1)[1]).decode()
        assert not re.search(r"(?:href|src)=\"https?:", svg)
    assert "@import" not in report_html and "url(" not in report_html
    assert "default-src 'none'" in report_html  # CSP: the page may fetch nothing


def test_metadata_is_escaped(report_html: str) -> None:
    assert "<script>alert" not in report_html
    parsed = _parse(report_html)
    assert parsed.tags.count("script") == 1 and parsed.tags.count("img") == len(PLOT_IDS)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in report_html
    assert "&lt;img src=&quot;https://evil.example/x.png&quot;&gt;&amp;" in report_html
    assert report_html.count("<script>") == 1  # only the report's own check


def test_plain_words_for_every_pattern() -> None:
    assert pattern_phrase({"pattern": "random"}).startswith("They came at random")
    assert pattern_phrase({"pattern": "periodic", "period_s": 24.2}) == (
        "They came in a regular rhythm, about every 24 s."
    )
    assert pattern_phrase({"pattern": "periodic", "period_s": 2.46}) == (
        "They came in a regular rhythm, about every 2.5 s."
    )
    assert pattern_phrase({"pattern": "clustered", "bursts": 7, "mean_burst_size": 5.43}) == (
        "They came in clusters (7 bursts, 5.4 jerks each on average)."
    )
    assert pattern_phrase({"pattern": "insufficient", "pattern_min_events": 30}) == (
        "Too few jerks to tell a pattern (needs 30)."
    )


def test_earlier_night_and_periodic_headline(three_nights: Path) -> None:
    html = render_report(load_report_data(three_nights), night="2026-03-27")
    assert "The night of 2026-03-27" in html
    assert '<span id="headline-jerks">50</span> jerks' in html
    assert "They came in a regular rhythm, about every 24 s." in html
    assert '<tr class="selected"><td class="text">2026-03-27</td>' in html
    with pytest.raises(InputError, match="no night '2026-01-01'"):
        render_report(load_report_data(three_nights), night="2026-01-01")


def test_times_in_the_files_zone_not_the_machines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A New York night is labelled in New York time whatever the machine's zone, and
    without summary.json the offsets in the CSVs alone give the same labels."""
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        out = build_output(
            tmp_path / "ny", [NightSpec(date(2026, 3, 7), "random", 35)], tz="America/New_York"
        )  # DST starts 2026-03-08 02:00
        data = load_report_data(out)
        night = data.night()
        assert data.clock.label(night.start) == "12:00"
        assert data.clock.offset_text(night.start) == "UTC-05:00"
        assert data.clock.offset_text(night.end) == "UTC-04:00"
        ticks = [data.clock.label(t) for t in data.clock.hour_ticks(night.start, night.end, 30)]
        assert ticks[:3] == ["12:00", "13:00", "14:00"] and "02:00" not in ticks
        assert "01:00" in ticks and "03:00" in ticks and len(ticks) == 24
        (out / "summary.json").unlink()
        data2 = load_report_data(out)
        assert data2.clock.zone_name is None
        assert [
            data2.clock.label(t) for t in data2.clock.hour_ticks(night.start, night.end, 30)
        ] == ticks
        html = render_report(data2)
        assert "Last night: Sat 07 Mar 12:00 to Sun 08 Mar 2026 12:00</p>" in html
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_night_without_jerks_still_renders(tmp_path: Path) -> None:
    out = build_output(tmp_path / "quiet", [NightSpec(date(2026, 5, 2), "none", 0)])
    html = write_report(out).read_text(encoding="utf-8")
    assert '<span id="headline-jerks">0</span> jerks' in html
    assert "No jerks were found this night" in html
    imgs = _imgs(html)
    assert len(imgs) == 4  # one night: no trend plot
    svgs = [base64.b64decode(re.search(r"base64,([^\"]+)", t).group(1)) for t in imgs]  # type: ignore[union-attr]
    notes = [
        "No jerks this night",
        "No jerks this night",
        "Fewer than two jerks: no intervals",
        "No jerks this night",
    ]
    for svg, note in zip(svgs, notes, strict=True):
        text = svg.decode()
        assert f'class="note">{note}</text>' in text
        assert text.count('class="spine"') == 2 and text.count('class="title"') == 1
        assert 'class="bar' not in text and 'class="jerks"' not in text
    assert "Night after night" not in html


def test_intervals_are_measured_on_valid_time_as_in_the_summary(tmp_path: Path) -> None:
    """Five jerks around the fixture's 10-minute movement period (23:30-23:40): the
    interval across it is 800 s on the clock but 200 s of valid time, which is what
    daily_summary.csv's iei_median_s measures (intervals 100, 200, 40, 260 s: median
    150 s; on the clock 100, 800, 40, 260: median 180 s)."""
    out = build_output(tmp_path / "iv", [NightSpec(date(2026, 5, 2), "none", 0)])
    rec0 = datetime.fromisoformat("2026-05-02T22:30:00+02:00").timestamp()
    times = [rec0 + d for d in (3400.0, 3500.0, 4300.0, 4340.0, 4600.0)]
    lines = ["time,time_local,peak_g"] + [
        f"{t:.3f},{datetime.fromtimestamp(t, ZoneInfo('Europe/Berlin')).isoformat()},0.5"
        for t in times
    ]
    (out / "events.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    html = write_report(out).read_text(encoding="utf-8")
    assert (
        "Histogram of the time between consecutive jerks, logarithmic bins; median 150 s." in html
    )
    src = re.search(r'id="plot-intervals" src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert src is not None
    svg = base64.b64decode(src.group(1)).decode()
    heights = [float(b["height"]) for b in _elements(svg, "rect", "bar") if float(b["height"]) > 0]
    assert len(heights) == 4  # 40, 100, 200 and 260 s fall in four different bins


def test_one_jerk_is_one_jerk_in_the_alt_texts(tmp_path: Path) -> None:
    out = build_output(tmp_path / "one", [NightSpec(date(2026, 5, 2), "random", 1, seed=4)])
    html = write_report(out).read_text(encoding="utf-8")
    assert ": 1 jerk drawn as vertical lines as tall as their size;" in html
    assert re.search(r"most in the hour from \d\d:00 \(1 jerk\)\.", html)
    assert "1 jerks" not in html


def test_a_chest_straps_heartbeat_is_said_where_it_held_the_trigger(tmp_path: Path) -> None:
    out = build_output(tmp_path / "chest", [NightSpec(date(2026, 5, 2), "random", 40)])
    assert "heartbeat" not in render_report(load_report_data(out))  # no pulse_min: no word
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    night = load_report_data(out).night()
    start, end = night.start, night.end
    # a recording over the whole window and as long again after it: half its beats fall here
    summary["recordings"][0].update(start=start, end=2 * end - start, pulse_min=600.0)
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    html = render_report(load_report_data(out))
    assert (
        '<p class="quality" id="beats">A heartbeat was in the data for 5.0 h (a chest strap '
        "feels the heart): there a jerk had to be at least twice a heartbeat&#x27;s size "
        "to count.</p>"
    ) in html
    # below 100 Hz beats pass for jerks too often: the line says so
    summary["recordings"][0].update(fs_hz=50.0)
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    html = render_report(load_report_data(out))
    assert (
        "to count. At 50 Hz beats are hard to tell from jerks, so some counted jerks may be "
        "beats: record at 100–200 Hz.</p>"
    ) in html
    # the recording's own low-rate warning is not said twice; its other warnings are
    strap = (
        "a heartbeat was in 39% of the recording at 50 Hz: below 100 Hz beats are hard to "
        "tell from jerks"
    )
    rec = {"path": summary["recordings"][0]["path"], "warnings": [strap, "axis y is stuck"]}
    summary["data_quality"] = {"recordings": [rec]}
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    html = render_report(load_report_data(out))
    assert '<p class="quality" id="warnings">Check the recording: axis y is stuck.</p>' in html


def test_missing_file_is_named(tmp_path: Path) -> None:
    out = build_output(tmp_path / "o", [NightSpec(date(2026, 5, 2), "random", 40)])
    (out / "hourly.csv").unlink()
    with pytest.raises(InputError, match=r"hourly\.csv: missing"):
        write_report(out)
    assert not (out / "report.html").exists()


def test_mixture_says_which_part_was_which(tmp_path: Path) -> None:
    out = build_output(tmp_path / "m", [NightSpec(date(2026, 5, 2), "mixed", 80, seed=4)])
    html = write_report(out).read_text(encoding="utf-8")
    m = re.search(r'<p class="mixture">Hour by hour: ([^<]*)</p>', html)
    assert m is not None
    assert m.group(1).startswith("at random") and "regular rhythm" in m.group(1)


# ------------------------------------------------------------------ real browser


@pytest.fixture(scope="module")
def chromium() -> str:
    try:
        return find_chromium()
    except ChromiumMissing as exc:
        pytest.fail(str(exc))


def test_chromium_renders_every_plot_offline(
    chromium: str, three_nights: Path, report_html: str, tmp_path: Path
) -> None:
    page = three_nights / "report.html"
    dom = dump_dom(page, tmp_path)
    body = re.search(r"<body\b[^>]*>", dom)
    assert body is not None, dom[:500]
    attrs = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', body.group(0)))
    assert attrs["data-render"] == "done", attrs
    assert attrs["data-plots-total"] == str(len(PLOT_IDS))
    assert attrs["data-plots-visible"] == str(len(PLOT_IDS)), attrs
    assert attrs["data-plots-bad"] == ""
    assert attrs["data-fetched"] == "0"
    assert "They came at random" in dom

    png = screenshot(page, tmp_path / "shot.png", tmp_path, width=1000, height=1600)
    raw = png.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 20_000
    pixels = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"), dtype=float) / 255.0
    assert pixels.shape[:2] == (1600, 1000)
    rgb = pixels[..., :3]
    assert rgb.std() > 0.05  # not one colour
    non_white = (rgb < 0.9).any(axis=-1).mean()
    assert 0.02 < non_white < 0.6, non_white
    # the headline box's dark blue border and the jerk colour are on the page
    navy = (np.abs(rgb - np.array([0x1F, 0x3B, 0x73]) / 255).max(axis=-1) < 0.05).sum()
    assert navy > 2000, navy


def test_window_without_valid_time(tmp_path: Path) -> None:
    out = build_output(tmp_path / "v", [NightSpec(date(2026, 5, 2), "none", 0)])
    daily = out / "daily_summary.csv"
    header, row = daily.read_text().splitlines()
    cells = row.split(",")
    cells[4], cells[6], cells[7] = "0.000", "", ""  # hours_valid, jerks_per_hour, pattern
    daily.write_text(f"{header}\n{','.join(cells)}\n")
    html = write_report(out).read_text(encoding="utf-8")
    assert "No valid recording" in html and "No jerks could be counted this night." in html
    assert len(_imgs(html)) == 4


def test_missing_chromium_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without chromium and without root/apt-get the helper raises with instructions
    (the browser test then fails; it is never skipped)."""
    import browser

    monkeypatch.setattr(browser, "_which", lambda: None)
    monkeypatch.setattr(browser.os, "geteuid", lambda: 1000)
    with pytest.raises(ChromiumMissing, match="apt-get install -y --no-install-recommends"):
        find_chromium()
    calls: list[list[str]] = []
    monkeypatch.setattr(browser.os, "geteuid", lambda: 0)
    monkeypatch.setattr(browser.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(browser, "_apt_updated", False)
    monkeypatch.setattr(browser.subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    with pytest.raises(ChromiumMissing, match="no chromium binary"):
        find_chromium()
    assert calls == [
        ["/usr/bin/apt-get", "update", "-q"],
        ["/usr/bin/apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
    ]


def test_browser_check_catches_a_remote_image(chromium: str, tmp_path: Path) -> None:
    """Negative control: the same on-load check flags images from the network (which the
    blocked network cannot deliver) and counts the attempted fetches."""
    from pipeline.report_html import SCRIPT

    page = tmp_path / "remote.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="https://example.com/x.png" alt="remote">'
        f"<script>{SCRIPT}</script></body></html>",
        encoding="utf-8",
    )
    body = re.search(r"<body\b[^>]*>", dump_dom(page, tmp_path))
    assert body is not None
    attrs = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', body.group(0)))
    assert attrs["data-plots-visible"] == "0" and attrs["data-plots-bad"] == "remote"
    assert attrs["data-fetched"] == "1"


# ------------------------------------------------------------------ the SVG plots

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC
CET = LocalClock(np.array([T0]), np.array([3600.0]))  # a fixed UTC+01:00 clock


def _elements(svg: str, tag: str, cls: str) -> list[dict[str, str]]:
    """Attributes of every ``<tag>`` whose class list contains ``cls``."""
    root = ElementTree.fromstring(svg.split("?>", 1)[1])
    found = []
    for el in root.iter(f"{{http://www.w3.org/2000/svg}}{tag}"):
        if cls in el.get("class", "").split():
            found.append({**el.attrib, "text": el.text or ""})
    return found


def test_nice_ticks_scales_and_number_text() -> None:
    assert nice_ticks(0, 47) == [0, 10, 20, 30, 40]
    assert nice_ticks(0, 0.55) == [0, 0.2, 0.4]
    assert nice_ticks(0, 12.96) == [0, 5, 10]
    assert nice_ticks(0, 1.1) == [0, 0.25, 0.5, 0.75, 1.0]
    major, minor = decade_ticks(0.0095, 1.2)
    assert major == [0.01, 0.1, 1.0]
    assert minor == [k / 100 for k in range(2, 10)] + [k / 10 for k in range(2, 10)]
    lin = Scale(0.0, 10.0, 100.0, 300.0)
    assert lin(0) == 100 and lin(2.5) == 150 and lin(10) == 300 and lin.clip(-5) == 100
    y = Scale(0.0, 4.0, 200.0, 40.0)  # a y axis: up is smaller
    assert list(y.many([0, 1, 4])) == [200, 160, 40]
    log = Scale(0.1, 1000.0, 0.0, 400.0, log=True)
    assert log(1) == pytest.approx(100) and log(100) == pytest.approx(300)
    assert [fmt(v) for v in (3.0, 2.505, -0.001, 148.2415)] == ["3", "2.5", "0", "148.24"]
    with pytest.raises(ValueError):
        Scale(1.0, 1.0, 0.0, 1.0)


def test_svg_document_escapes_text_and_is_well_formed() -> None:
    s = Svg(200, 100, title='a <"title"> & more')
    s.text(10, 20, "<script>&", cls="note")
    s.rect(50, 60, -20, -10, "#000000", opacity=0.5, cls="bar")
    doc = s.render()
    assert doc.startswith('<?xml version="1.0" encoding="utf-8"?>\n<svg ')
    assert "<script>" not in doc and "&lt;script&gt;&amp;" in doc
    assert '<title>a &lt;"title"&gt; &amp; more</title>' in doc
    # a negative width/height is flipped onto the other side of the corner
    assert _elements(doc, "rect", "bar") == [
        {
            "x": "30",
            "y": "50",
            "width": "20",
            "height": "10",
            "fill": "#000000",
            "class": "bar",
            "fill-opacity": "0.5",
            "text": "",
        }
    ]


def test_hourly_bars_exact() -> None:
    """Three hours (5, 0, 12 jerks; the last with 20 valid minutes): two bars, the
    second faded, at exact pixels: x 62..709.21 px (944 px less the legend room)
    spans 3 h, y 0..12.96 jerks (the highest bar + 8 %) spans 220..34 px; the
    legend names only what is drawn (no bar is "too few to tell")."""
    svg = P.hourly_svg(
        CET,
        [T0, T0 + 3600, T0 + 7200],
        [5, 0, 12],
        [60, 60, 20],
        ["random", "insufficient", "periodic"],
        [60, 60, 60],
    )
    bars = _elements(svg, "rect", "bar")
    assert [b["class"] for b in bars] == ["bar bar-random", "bar bar-low"]
    # 3300 s of 10800 s on 647.21 px = 197.76 px; 5 jerks = 5 / 12.96 * 186 = 71.76 px
    assert [(b["x"], b["y"], b["width"], b["height"]) for b in bars] == [
        ("62", "148.24", "197.76", "71.76"),
        ("493.47", "47.78", "197.76", "172.22"),
    ]
    assert bars[0]["fill"] == P.PATTERN_COLOURS["random"]
    assert bars[1]["fill-opacity"] == "0.35" and bars[1]["fill"] == P.PATTERN_COLOURS["periodic"]
    assert [t["text"] for t in _elements(svg, "text", "xtick")] == [
        "01:00",
        "02:00",
        "03:00",
        "04:00",
    ]
    assert [t["text"] for t in _elements(svg, "text", "ytick")] == ["0", "5", "10"]
    assert [t["text"] for t in _elements(svg, "text", "legend")] == [
        "at random",
        "regular rhythm",
        "under 30 valid min",
    ]


def test_hourly_bar_of_a_half_hour_is_half_as_wide() -> None:
    """A half-hour clock change (Lord Howe Island) makes a 30-minute hour: 2.5 h on
    647.21 px; full hours get 3300 s of bar (237.31 px), the half hour 1650 s
    (118.66 px) and stops short of the next hour (x 320.88 + 118.66 < 450.33)."""
    svg = P.hourly_svg(
        CET,
        [T0, T0 + 3600, T0 + 5400],
        [5, 6, 12],
        [60, 30, 60],
        ["random", "random", "random"],
        [60, 30, 60],
        [T0 + 3600, T0 + 5400, T0 + 9000],
    )
    bars = _elements(svg, "rect", "bar")
    assert [(b["x"], b["width"]) for b in bars] == [
        ("62", "237.31"),
        ("320.88", "118.66"),
        ("450.33", "237.31"),
    ]


def test_timeline_jerks_spans_and_legend_exact() -> None:
    """Three jerks in a recording of 00:30-06:30 UTC: the view is 00:00-07:00 (half
    an hour each side), 647.21 px for 7 h; y 0..0.55 g (largest + 10 %) on 240..34 px."""
    svg = P.timeline_svg(
        CET,
        T0,
        T0 + 86400,
        [T0 + 3600, T0 + 7200.5, T0 + 9000],
        [0.2, 0.5, 0.4],
        [(T0 + 4000, T0 + 4600, "movement"), (T0 + 20000, T0 + 22000, "nonwear")],
        (T0 + 1800, T0 + 23400),
    )
    (jerks,) = _elements(svg, "path", "jerks")
    assert jerks["d"] == "M154.5 240.0V165.1M246.9 240.0V52.7M293.1 240.0V90.2"
    (dots,) = _elements(svg, "path", "jerk-dots")
    assert dots["d"].count("M") == 3 and dots["stroke-linecap"] == "round"
    grey = _elements(svg, "rect", "span-norecording")
    assert [(r["x"], r["width"]) for r in grey] == [("62", "46.23"), ("662.98", "46.23")]
    (move,) = _elements(svg, "rect", "span-movement")
    assert (move["x"], move["width"], move["fill-opacity"]) == ("164.73", "15.41", "0.3")
    assert len(_elements(svg, "rect", "span-nonwear")) == 1
    assert [t["text"] for t in _elements(svg, "text", "ytick")] == ["0", "0.2", "0.4"]
    assert [t["text"] for t in _elements(svg, "text", "xtick")] == [
        f"{h:02d}:00" for h in range(1, 9)
    ]
    assert [t["text"] for t in _elements(svg, "text", "legend")] == [
        "a jerk (height = size)",
        "not recording",
        "movement (not counted)",
        "sensor not worn",
    ]
    assert _elements(svg, "text", "xlabel")[0]["text"] == "local time (UTC+01:00 at the start)"
    assert _elements(svg, "text", "note") == []


def test_timeline_greys_time_without_data_inside_the_recording() -> None:
    """A recording of 00:30-06:30 UTC with no data 03:00-04:00 (between two files) and
    06:00-08:00 (a gap running past the view): 647.21 px for the 7-h view, so the hole
    is x 339.38, 92.46 px wide, and the gap is cut at the view's end."""
    svg = P.timeline_svg(
        CET,
        T0,
        T0 + 86400,
        [T0 + 3600],
        [0.2],
        [],
        (T0 + 1800, T0 + 23400),
        [(T0 + 10800, T0 + 14400), (T0 + 21600, T0 + 28800)],
    )
    grey = _elements(svg, "rect", "span-norecording")
    assert [(r["x"], r["width"]) for r in grey] == [
        ("62", "46.23"),
        ("339.38", "92.46"),
        ("616.75", "92.46"),
        ("662.98", "46.23"),
    ]


def test_not_recorded_from_summary_json(three_nights: Path) -> None:
    data = load_report_data(three_nights)
    night = data.night()
    a, b = night.start + 11 * 3600, night.start + 13 * 3600
    data.summary = {
        "recordings": [
            {"path": "b.csv", "start": b, "end": b + 3600},
            {"path": "a.csv", "start": a, "end": a + 1800},
        ],
        "data_quality": {"gaps": [{"start": b + 60, "end": b + 120}]},
    }
    assert not_recorded(data, night) == [(a + 1800, b), (b + 60, b + 120)]
    data.summary = {}
    assert not_recorded(data, night) == []


def test_histograms_and_trend_exact() -> None:
    times = T0 + np.array([0.0, 24.0, 48.0, 72.0, 73.0])  # intervals 24, 24, 24, 1 s
    iv = P.intervals_svg(times, period_s=24.0)
    bars = _elements(iv, "rect", "bar")
    assert len(bars) == 2  # one bin holds the three 24 s intervals, one the 1 s one
    heights = sorted(float(b["height"]) for b in bars)
    assert heights[1] == pytest.approx(3 * heights[0], abs=0.02)
    (period,) = _elements(iv, "line", "period")
    assert period["x1"] == period["x2"] and period["stroke-dasharray"] == "5 3"
    assert [t["text"] for t in _elements(iv, "text", "xtick")] == [
        "0.1 s",
        "1 s",
        "10 s",
        "1 min",
        "10 min",
        "1 h",
    ]

    amp = P.amplitude_svg([0.1, 0.2, 0.3, 0.4, 0.5])
    assert len(_elements(amp, "rect", "bar")) == 5
    assert [t["text"] for t in _elements(amp, "text", "legend")] == [
        "median 0.30 g",
        "90th percentile 0.46 g",
    ]
    assert [t["text"] for t in _elements(amp, "text", "xtick")] == ["0.01", "0.1", "1"]

    trend = P.trend_svg(["d1", "<d2>", "d3"], [2.0, float("nan"), 4.0], ["random"] * 3, 2)
    bars = _elements(trend, "rect", "bar")
    assert [b["class"] for b in bars] == ["bar", "bar bar-selected"]
    assert bars[1]["stroke"] == "#000000"
    assert float(bars[1]["height"]) == pytest.approx(2 * float(bars[0]["height"]), abs=0.02)
    assert [t["text"] for t in _elements(trend, "text", "value")] == ["2.0", "no data", "4.0"]
    assert [t["text"] for t in _elements(trend, "text", "xtick")] == ["d1", "<d2>", "d3"]
    assert "&lt;d2&gt;" in trend


def test_data_quality_warnings_are_in_the_headline(tmp_path: Path, report_html: str) -> None:
    """A recording whose times count from its start (dated 1970): `process` says so in
    the report, under the headline; a clean night has no such line."""
    from click.testing import CliRunner

    from cli import main

    assert 'id="warnings"' not in report_html
    lines = (Path(__file__).parent / "data" / "formats" / "night.csv").read_text().splitlines()
    rows = [s for s in lines if s and not s.startswith("#")][1:]
    t0 = float(rows[0].split(",")[0])
    rel = [f"{float(r.split(',')[0]) - t0:.4f},{r.split(',', 1)[1]}" for r in rows]
    path = tmp_path / "rel.csv"
    path.write_text("time,ax,ay,az\n" + "\n".join(rel) + "\n")
    res = CliRunner().invoke(main, ["process", str(path), "--out", str(tmp_path / "o"),
                                    "--tz", "UTC"])  # fmt: skip
    assert res.exit_code == 0, res.output
    html = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert (
        '<p class="quality" id="warnings">Check the recording: time starts at 0 s, which '
        "dates the recording 1970-01-01: if the times count from the start of the "
        "recording, read it with --time-unit relative --start ISO-8601.</p>"
    ) in html


def test_seconds_of_gaps_are_not_said_to_be_none() -> None:
    # 26 s of gaps (gap_min 0.44 in daily_summary.csv) read "gaps in the recording 0 min"
    from pipeline.report import quality_line
    from pipeline.report_data import NightView
    from pipeline.table import Table

    row = {"hours_recorded": 11.0, "hours_valid": 10.3843, "gap_min": 0.44,
           "nonwear_min": 0.0, "activity_min": 36.51}  # fmt: skip
    night = NightView(row, 0.0, 86400.0, Table(), Table(), Table())
    assert quality_line(night) == (
        "Recorded 11.0 h, of which 10.4 h valid; gaps in the recording under 1 min; sensor "
        "not worn 0 min; moving (activity) 37 min. Jerks are counted only in valid time."
    )
    row.update(gap_min=0.5, nonwear_min=0.6, activity_min=95.0)
    assert quality_line(night) == (
        "Recorded 11.0 h, of which 10.4 h valid; gaps in the recording under 1 min; sensor "
        "not worn 1 min; moving (activity) 1.6 h. Jerks are counted only in valid time."
    )
    row.update(gap_min=0.0)
    assert "; gaps in the recording 0 min;" in quality_line(night)
