"""Accelerometer samples as text lines (USB serial from Arduino/ESP32/Pico, or NUS over BLE).

Supported formats (presets, :data:`TEXT_FORMATS`):

==============  ==========================================================  =========
name            line                                                        unit
==============  ==========================================================  =========
``csv``         ``ax,ay,az``                                                g
``csv-ms``      ``t_ms,ax,ay,az``                                           g, ms
``tsv``         ``x<TAB>y<TAB>z`` (any whitespace; LSM9DS1/BMI270 examples)  g
``tsv-ms``      ``t_ms<TAB>x<TAB>y<TAB>z``                                  g, ms
``adafruit``    ``AccelX:…,AccelY:…,AccelZ:…,GyroX:…`` (MPU6050 plotter)      m/s²
``mpu6050-raw`` ``a/g:<TAB>ax<TAB>ay<TAB>az<TAB>gx<TAB>gy<TAB>gz``          16384/g
``puck``        ``{"acc":{"x":…,"y":…,"z":…}}`` (Puck.js JSON)              8192/g
==============  ==========================================================  =========

Option syntax (:func:`parse_text_format`): ``auto`` (recognise from the first lines),
a preset name, a preset followed by overrides, or overrides alone (on top of ``csv``),
comma-separated ``key=value``:

- ``delim=comma|tab|space|semicolon|whitespace`` (``space``/``whitespace`` = runs of
  blanks);
- ``cols=t_ms/ax/ay/az`` (``/`` or ``:`` between names; names ``ax ay az`` required,
  optional one of ``t_ms t_s t_us`` for a device clock, ``_`` ignores a column);
- ``keys=AccelX/AccelY/AccelZ`` (``Key:value`` fields) or ``json=acc.x/acc.y/acc.z``
  (one JSON object per line);
- ``unit=g|mg|ms2|<counts per g>``; ``prefix=<text every data line starts with>``.

Examples: ``csv``, ``csv,unit=mg``, ``delim=tab,cols=t_ms/ax/ay/az,unit=ms2``,
``puck,unit=4096``.

Lines end at ``\\n`` or ``\\r``; blank lines are ignored; lines longer than
``max_line`` bytes, non-ASCII lines and lines that do not parse are skipped and
counted (``stats.skipped`` before a format is known, ``stats.bad`` after), never fatal.
Numbers are plain decimals (``-1.5``, ``2e-3``); ``nan``/``inf`` are rejected, and so
is a line whose values are beyond the reader's ±100 000 g or whose time is negative or
absurd (:func:`~firmware_bridge.board_time.plausible`). With a time column one line
whose time breaks the sequence (a step back, or a far step forward) while the next
line continues the old one is a bad line too
(:class:`~firmware_bridge.board_time.BoardTimeFilter`): a stray line never moves the
recording's time base, a board that restarts its clock still does.

Auto-detection: a format is adopted once ``lock_lines`` consecutive lines parse with
the same preset (boot text before them is skipped); for the plain numeric presets the
unit is recognised from the median vector norm of those lines (0.5-1.5 -> g,
4.9-14.7 -> m/s², 500-1500 -> mg; otherwise the window slides on: pass an explicit
format for raw counts). After ``relock_after`` consecutive bad lines an auto decoder
forgets the format and recognises it again.

Time: formats with a time column give the device clock (s); the others are stamped on
arrival with ``1 / sample_rate`` spacing (:class:`~firmware_bridge.samples.ArrivalClock`).
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
from dataclasses import dataclass, replace

import numpy as np

from firmware_bridge.board_time import BoardTimeFilter, plausible
from firmware_bridge.errors import ConfigurationError
from firmware_bridge.samples import ArrivalClock, DecodedBatch, DecoderStats

log = logging.getLogger(__name__)

STANDARD_GRAVITY = 9.80665
MAX_LINE = 1024
_NUM = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
_TIME_SCALE = {"t_s": 1.0, "t_ms": 1e-3, "t_us": 1e-6}
_AXES = ("ax", "ay", "az")
_DELIMS = {"comma": ",", "tab": "\t", "semicolon": ";", "space": None, "whitespace": None}
_UNITS = {"g": 1.0, "mg": 1e-3, "ms2": 1.0 / STANDARD_GRAVITY}
_LINE_END = re.compile(rb"[\r\n]")
#: A board time step (s) up to max(MAX_STEP_S, MAX_STEP_PERIODS sample periods)
#: continues the sequence (see :class:`~firmware_bridge.board_time.BoardTimeFilter`).
MAX_STEP_S = 2.0
MAX_STEP_PERIODS = 20
#: Longest quoted example of an unreadable line (characters).
EXAMPLE_CHARS = 60

Row = tuple[float, float, float, float]
"""``(t seconds or nan, x g, y g, z g)``."""


def _number(text: str) -> float | None:
    if not _NUM.match(text):
        return None
    v = float(text)
    return v if math.isfinite(v) else None


def unit_scale(unit: str) -> float:
    """g per unit for ``g``, ``mg``, ``ms2`` or a number of counts per g."""
    if unit in _UNITS:
        return _UNITS[unit]
    counts = _number(unit)
    if counts is None or counts <= 0:
        raise ConfigurationError(f"unit must be g, mg, ms2 or counts per g, got {unit!r}")
    return 1.0 / counts


@dataclass(frozen=True)
class TextFormat:
    """How one text line maps to a sample.

    kind : ``"delimited"`` (``columns`` name each field), ``"keyed"`` (``Key:value``
        fields; ``columns`` = the x, y, z keys) or ``"json"`` (``columns`` = dotted
        paths of x, y, z).
    delimiter : field separator, ``None`` for runs of whitespace.
    unit : ``g``, ``mg``, ``ms2`` or counts per g (see :func:`unit_scale`).
    prefix : text every data line starts with (removed before splitting).
    name : the option string that produced it.
    """

    name: str = "csv"
    kind: str = "delimited"
    delimiter: str | None = ","
    columns: tuple[str, ...] = _AXES
    unit: str = "g"
    prefix: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("delimited", "keyed", "json"):
            raise ConfigurationError(f"unknown text format kind {self.kind!r}")
        unit_scale(self.unit)
        cols = self.columns
        if self.kind == "delimited":
            known = set(_AXES) | set(_TIME_SCALE) | {"_"}
            bad = [c for c in cols if c not in known]
            times = [c for c in cols if c in _TIME_SCALE]
            if bad or any(cols.count(a) != 1 for a in _AXES) or len(times) > 1:
                raise ConfigurationError(
                    f"cols must name ax, ay, az once each, at most one of t_ms/t_s/t_us, "
                    f"and _ for ignored columns; got {'/'.join(cols)!r}"
                )
        elif len(cols) != 3 or not all(cols):
            raise ConfigurationError(f"{self.kind} format needs exactly 3 keys, got {cols!r}")

    @property
    def g_per_unit(self) -> float:
        return unit_scale(self.unit)

    @property
    def has_time(self) -> bool:
        """True when lines carry a device clock."""
        return self.kind == "delimited" and any(c in _TIME_SCALE for c in self.columns)

    def _split(self, text: str) -> list[str]:
        parts = text.split(self.delimiter) if self.delimiter else text.split()
        parts = [p.strip() for p in parts]
        if len(parts) > 1 and parts[-1] == "":  # tolerate one trailing delimiter
            parts.pop()
        return parts

    def parse(self, line: str) -> Row | None:
        """Parse one stripped line; ``None`` if it is not a data line of this format."""
        if self.prefix:
            if not line.startswith(self.prefix):
                return None
            line = line[len(self.prefix) :].strip()
        if self.kind == "json":
            raw = self._parse_json(line)
        elif self.kind == "keyed":
            raw = self._parse_keyed(line)
        else:
            raw = self._parse_delimited(line)
        if raw is None:
            return None
        s = self.g_per_unit
        row = (raw[0], raw[1] * s, raw[2] * s, raw[3] * s)
        return row if plausible(row) else None

    def _parse_delimited(self, line: str) -> Row | None:
        fields = self._split(line)
        if len(fields) != len(self.columns):
            return None
        t = math.nan
        vals: dict[str, float] = {}
        for name, text in zip(self.columns, fields, strict=True):
            if name == "_":
                if not text:
                    return None
                continue
            v = _number(text)
            if v is None:
                return None
            if name in _TIME_SCALE:
                t = v * _TIME_SCALE[name]
            else:
                vals[name] = v
        return (t, vals["ax"], vals["ay"], vals["az"])

    def _parse_keyed(self, line: str) -> Row | None:
        found: dict[str, str] = {}
        for field in self._split(line):
            if not field:
                continue
            key, sep, value = field.partition(":")
            if not sep:
                return None
            found[key.strip()] = value.strip()
        out = [_number(found.get(k, "")) for k in self.columns]
        if any(v is None for v in out):
            return None
        return (math.nan, out[0], out[1], out[2])  # type: ignore[return-value]

    def _parse_json(self, line: str) -> Row | None:
        if not line.startswith("{"):
            return None
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            return None
        out: list[float] = []
        for path in self.columns:
            node = obj
            for key in path.split("."):
                if not isinstance(node, dict) or key not in node:
                    return None
                node = node[key]
            if isinstance(node, bool) or not isinstance(node, int | float):
                return None
            v = float(node)
            if not math.isfinite(v):
                return None
            out.append(v)
        return (math.nan, out[0], out[1], out[2])


TEXT_FORMATS: dict[str, TextFormat] = {
    "csv": TextFormat("csv"),
    "csv-ms": TextFormat("csv-ms", columns=("t_ms", *_AXES)),
    "tsv": TextFormat("tsv", delimiter=None),
    "tsv-ms": TextFormat("tsv-ms", delimiter=None, columns=("t_ms", *_AXES)),
    "adafruit": TextFormat("adafruit", "keyed", ",", ("AccelX", "AccelY", "AccelZ"), unit="ms2"),
    "mpu6050-raw": TextFormat(
        "mpu6050-raw",
        delimiter=None,
        columns=(*_AXES, "_", "_", "_"),
        unit="16384",
        prefix="a/g:",
    ),
    "puck": TextFormat("puck", "json", None, ("acc.x", "acc.y", "acc.z"), unit="8192"),
}
"""The preset formats by name."""

# tried in this order when recognising a format; numeric presets get their unit guessed
_AUTO_ORDER = ("puck", "adafruit", "mpu6050-raw", "csv-ms", "csv", "tsv-ms", "tsv")
_GUESS_UNIT = {"csv", "csv-ms", "tsv", "tsv-ms"}
_UNIT_BANDS = (("g", 0.5, 1.5), ("ms2", 4.9, 14.7), ("mg", 500.0, 1500.0))


def parse_text_format(spec: str | TextFormat | None) -> TextFormat | None:
    """Turn an option string into a :class:`TextFormat`; ``auto``/``None`` -> ``None``.

    Raises :class:`~firmware_bridge.errors.ConfigurationError` for a bad option.
    """
    if spec is None or isinstance(spec, TextFormat):
        return spec
    spec = spec.strip()
    if spec in ("", "auto"):
        return None
    tokens = [tok.strip() for tok in spec.split(",")]
    base = TEXT_FORMATS["csv"]
    if "=" not in tokens[0]:
        name = tokens.pop(0)
        if name not in TEXT_FORMATS:
            raise ConfigurationError(
                f"unknown text format {name!r}; presets: {', '.join(TEXT_FORMATS)} or auto"
            )
        base = TEXT_FORMATS[name]
    changes: dict[str, object] = {"name": spec}
    for tok in tokens:
        key, sep, value = tok.partition("=")
        if not sep:
            raise ConfigurationError(f"expected key=value in text format, got {tok!r}")
        key = key.strip().lower()
        if key in ("delim", "delimiter"):
            if value not in _DELIMS:
                raise ConfigurationError(f"delim must be one of {', '.join(_DELIMS)}")
            changes["delimiter"] = _DELIMS[value]
        elif key in ("cols", "columns"):
            changes["kind"] = "delimited"
            changes["columns"] = tuple(re.split(r"[/:]", value))
        elif key == "keys":
            changes.update(kind="keyed", columns=tuple(value.split("/")))
            changes.setdefault("delimiter", ",")
        elif key == "json":
            changes.update(kind="json", columns=tuple(value.split("/")), delimiter=None)
        elif key == "unit":
            changes["unit"] = value
        elif key == "prefix":
            changes["prefix"] = value
        else:
            raise ConfigurationError(
                f"unknown text format option {key!r} (delim, cols, keys, json, unit, prefix)"
            )
    return replace(base, **changes)  # type: ignore[arg-type]


def _guess_unit(rows: list[Row]) -> str | None:
    norm = float(np.median([math.sqrt(r[1] ** 2 + r[2] ** 2 + r[3] ** 2) for r in rows]))
    for unit, lo, hi in _UNIT_BANDS:
        if lo <= norm <= hi:
            return unit
    return None


class TextLineDecoder:
    """Byte-stream decoder of accelerometer text lines; never raises on bad bytes.

    sample_rate : Hz, the spacing of arrival stamps for formats without a time column.
    fmt : a :class:`TextFormat`, an option string (see the module doc) or ``"auto"``.
    ``format`` is the format in use (``None`` while still recognising).
    ``feed(data, arrival_time)``: pass ``arrival_time`` (host seconds) unless the format
    has a time column; without it samples are numbered on the nominal grid.
    """

    def __init__(
        self,
        sample_rate: float,
        fmt: TextFormat | str | None = "auto",
        *,
        lock_lines: int = 3,
        relock_after: int = 50,
        max_line: int = MAX_LINE,
        resync_s: float = 1.0,
    ) -> None:
        if not sample_rate > 0:
            raise ConfigurationError(f"sample_rate must be > 0 Hz, got {sample_rate}")
        self.format = parse_text_format(fmt)
        self.auto = self.format is None
        self.sample_rate = float(sample_rate)
        self.lock_lines = max(1, lock_lines)
        self.relock_after = relock_after
        self.max_line = max_line
        self.clock = ArrivalClock(1.0 / sample_rate, resync_s=resync_s)
        self.stats = DecoderStats()
        self._buf = bytearray()
        self._overlong = False
        self._mid_line = False  # True after reset(): skip to the first line end
        self._candidate: TextFormat | None = None
        self._pending: list[Row] = []
        self._fails = 0
        self._warned = False
        # with a time column: a line whose time breaks the sequence waits for the next
        self.sequence = BoardTimeFilter(max(MAX_STEP_S, MAX_STEP_PERIODS / self.sample_rate))
        self._first_bad: str | None = None
        self._last_skipped: str | None = None

    def reset(self) -> None:
        """Drop a partial line and re-anchor the arrival clock (format is kept)."""
        self.stats.discarded_bytes += len(self._buf)
        self._buf.clear()
        self._overlong = False
        self.clock.reset()
        held = self.sequence.dropped
        self.sequence.reset()
        held = self.sequence.dropped - held  # a line that waited for the next: unverified
        self.stats.skipped += held
        self.stats.messages -= held

    # -- bytes -> lines
    def _lines(self, data: bytes) -> list[str | bytes]:
        """Complete lines, in order; ``bytes`` stand for an unreadable line."""
        self.stats.bytes_in += len(data)
        if self._mid_line:
            m = _LINE_END.search(data)
            if m is None:
                self.stats.discarded_bytes += len(data)
                return []
            self.stats.discarded_bytes += m.end()
            data = data[m.end() :]
            self._mid_line = False
        self._buf += data
        *complete, tail = _LINE_END.split(self._buf)
        lines: list[str | bytes] = []
        for piece in complete:
            if self._overlong:
                self._overlong = False
                self.stats.discarded_bytes += len(piece)
                continue
            if len(piece) > self.max_line:
                lines.append(bytes(piece))
                self.stats.discarded_bytes += len(piece)
                continue
            try:
                text = piece.decode("ascii").strip()
            except UnicodeDecodeError:
                lines.append(bytes(piece))
                continue
            if text:
                lines.append(text)
        if len(tail) > self.max_line:
            if not self._overlong:
                self._overlong = True
                lines.append(bytes(tail))
            self.stats.discarded_bytes += len(tail)
            tail = b""
        self._buf = bytearray(tail)
        return lines

    def _count_unparsed(self, piece: bytes) -> None:
        text = piece.decode("ascii", "backslashreplace")
        if self.format is None:
            self.stats.skipped += 1
            self._last_skipped = text
            self._drop_pending()
            self._candidate = None
        else:
            self._bad_line(text)

    @property
    def unread_example(self) -> str | None:
        """A line that could not be read as a sample, shortened (at most
        :data:`EXAMPLE_CHARS` characters): the first bad line, else the latest skipped
        one; ``None`` when every line was read."""
        text = self._first_bad if self._first_bad is not None else self._last_skipped
        if text is None:
            return None
        text = text.strip()
        return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 3] + "..."

    def _bad_line(self, text: str) -> None:
        if self._first_bad is None:
            self._first_bad = text
        self.stats.bad += 1
        self._fails += 1
        if self.auto and self._fails >= self.relock_after:
            log.info("%d unparsable lines: recognising the text format again", self._fails)
            self.format = None
            self._fails = 0

    def _drop_pending(self) -> None:
        self.stats.skipped += len(self._pending)
        self._pending.clear()

    # -- lines -> rows
    def _line(self, text: str, rows: list[Row]) -> None:
        if self.format is not None:
            r = self.format.parse(text)
            if r is None:
                self._bad_line(text)
            else:
                self._fails = 0
                self.stats.messages += 1
                rows.append(r)
            return
        for name in _AUTO_ORDER:
            cand = TEXT_FORMATS[name]
            r = cand.parse(text)
            if r is not None:
                break
        else:
            self.stats.skipped += 1
            self._last_skipped = text
            self._drop_pending()
            self._candidate = None
            self._warn_if_stuck()
            return
        if self._candidate is not cand:
            self._drop_pending()
            self._candidate = cand
        self._pending.append(r)
        if len(self._pending) >= self.lock_lines:
            self._try_lock(cand, rows)

    def _try_lock(self, cand: TextFormat, rows: list[Row]) -> None:
        fmt: TextFormat | None = cand
        pending = self._pending
        times = [r[0] for r in pending]
        if cand.has_time and not all(b > a for a, b in itertools.pairwise(times)):
            fmt = None
        elif cand.name in _GUESS_UNIT:
            unit = _guess_unit(pending)
            fmt = None if unit is None else parse_text_format(f"{cand.name},unit={unit}")
        if fmt is None:  # slide the window on
            pending.pop(0)
            self.stats.skipped += 1
            self._warn_if_stuck()
            return
        s = fmt.g_per_unit / cand.g_per_unit
        rows.extend((r[0], r[1] * s, r[2] * s, r[3] * s) for r in pending)
        self.stats.messages += len(pending)
        pending.clear()
        self.format, self._candidate, self._fails = fmt, None, 0
        log.info("text format recognised: %s", fmt.name)

    def _warn_if_stuck(self) -> None:
        if not self._warned and self.stats.skipped >= 200:
            self._warned = True
            log.warning(
                "no accelerometer text format recognised after %d lines; "
                "pass an explicit format (e.g. 'delim=tab,cols=ax/ay/az,unit=4096')",
                self.stats.skipped,
            )

    def feed(self, data: bytes, arrival_time: float | None = None) -> DecodedBatch:
        """Decode the complete lines in the stream so far."""
        rows: list[Row] = []
        for text in self._lines(data):
            if isinstance(text, bytes):
                self._count_unparsed(text)
            else:
                self._line(text, rows)
        rows = self._in_sequence(rows)
        if not rows:
            return DecodedBatch.empty()
        arr = np.array(rows, dtype=np.float64)
        t = arr[:, 0]
        missing = np.isnan(t)
        if missing.any():
            before = self.clock.resyncs
            t[missing] = self.clock.stamp(int(missing.sum()), arrival_time)
            self.stats.resyncs += self.clock.resyncs - before
        self.stats.samples += len(rows)
        return DecodedBatch(t.copy(), arr[:, 1:].copy())

    def _in_sequence(self, rows: list[Row]) -> list[Row]:
        """``rows`` without the lines whose board time is out of sequence (counted as
        bad lines); rows without a time (arrival-stamped formats) pass as they are."""
        if not rows or math.isnan(rows[0][0]):
            return rows
        before = self.sequence.rejected
        kept = self.sequence.push(rows)
        rejected = self.sequence.rejected - before
        if rejected:
            log.info("%d line(s) with a board time out of sequence: counted as bad", rejected)
        self.stats.bad += rejected
        self.stats.messages -= rejected
        return kept


class SerialTextDecoder(TextLineDecoder):
    """Text lines over USB serial (Arduino, ESP32, Pico...): :class:`TextLineDecoder`.

    Opening a port often resets the board: about 2 s of boot text follows, which is
    skipped and counted.
    """

    def reset(self) -> None:
        """As :meth:`TextLineDecoder.reset`, and skip to the next line end.

        A byte stream read from a (re-)opened port can start inside a line: the driver
        flushes its input on opening, and a running board is mid-line. That tail
        would parse as a sample with a truncated time or value (a time field that
        lost its leading digits), so everything up to the first line end after a
        reset is discarded: at most one sample lost per (re)connection.
        """
        super().reset()
        self._mid_line = True
