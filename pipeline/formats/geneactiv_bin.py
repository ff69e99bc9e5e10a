"""GENEActiv ``.bin`` files (the device's own download, text with hex pages), in chunks.

Layout (checked against GGIRread's ``GENEActivReader.cpp``, actipy's and the UK Biobank
accelerometer tool's ``GENEActivReader.java`` and actfast's ``geneactiv/mod.rs``, which
all follow the GENEActiv manual's "Decoding .bin files")::

    Device Identity                      header: 59 lines of sections (a line without
    Device Unique Serial Code:012345       a colon) and key:value lines, among them
    Device Type:GENEActiv                  "Measurement Frequency:100 Hz",
    ...                                    "Time Zone:GMT +01:00", the section
    Calibration Data                       "Calibration Data" (x/y/z gain and offset,
    x gain:25548                           Volts, Lux) and "Number of Pages:N"
    ...
    Recorded Data                        then pages of 10 lines each:
    Device Unique Serial Code:012345       "Recorded Data", serial code, "Sequence
    Sequence Number:0                      Number:", "Page Time:YYYY-MM-DD hh:mm:ss:mmm",
    Page Time:2012-01-01 00:00:00:000      "Unassigned:", "Temperature:",
    ...                                    "Battery voltage:", "Device Status:",
    Measurement Frequency:100.0 Hz         "Measurement Frequency:", and one line of
    0C1FF8...                              300 samples of 12 hex digits each

A sample is 48 bits, most significant first: x, y, z as 12-bit two's complement, light
10 bits, button 1 bit, 1 reserved bit; g = (raw × 100 − offset) / gain per axis. The
header is read up to the first ``Recorded Data`` line (not a fixed count of lines).

Times: the Page Time is the time of the page's first sample, the device's local time;
read at the header's ``Time Zone`` offset like the CSV export (else ``--tz``, else
UTC); the samples of a page follow at the page's measurement frequency. A page that
is not 10 lines, whose hex line or page time does not read, whose frequency is not
:data:`PAGE_RATES` (1 to 10 000 Hz), whose time is off both its neighbours while they
agree (:func:`~pipeline.formats.binary.lone_times`), or that repeats the page before it
(its time and hex line), is skipped and counted
(``skipped_blocks``); a file that ends inside a page drops that page (the reader
counts it as a torn last line).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import InputError
from pipeline.formats.base import InputOptions, RawBlock, get_tz, ramp_rows, utc_offset
from pipeline.formats.binary import (
    BinarySource,
    civil_seconds,
    local_to_epoch,
    lone_times,
    repeats,
    torn_row,
)

log = logging.getLogger(__name__)

PAGE_START = b"Recorded Data"
PAGE_LINES = 10
SAMPLES_PER_PAGE = 300
HEX_PER_SAMPLE = 12
HEX_LINE = SAMPLES_PER_PAGE * HEX_PER_SAMPLE
TIME_PREFIX = b"Page Time:"
FREQ_PREFIX = b"Measurement Frequency:"
#: header lines read at most before the first page
MAX_HEADER_LINES = 400
#: bytes of a page besides its hex line (about), for sizing the reads
PAGE_BYTES = HEX_LINE + 300
#: pages read past a chunk to tell whether its last pages' times are lone ones
PEEK = 2
#: the longest header line read (bytes): a longer one is not a GENEActiv header
MAX_HEADER_LINE = 4096
#: bytes read at most without finding the next page's ``Recorded Data`` line (a page is
#: about 3.9 kB): beyond them the file holds no pages, and is not kept in memory
MAX_PAGE_SPAN = 1 << 20
#: the page frequencies read (Hz; the reader's MIN_FS, MAX_FS): a page outside them is
#: corrupt (1e-9 Hz would spread its 300 samples over 9500 years)
PAGE_RATES = (1.0, 10_000.0)
CALIBRATION = ("x gain", "x offset", "y gain", "y offset", "z gain", "z offset")
KEEP = {
    "device unique serial code": "device_id",
    "device type": "device_type",
    "device model": "device_model",
    "device firmware version": "firmware_version",
    "measurement frequency": "sample_rate",
    "time zone": "geneactiv_time_zone",
    "device location code": "device_location",
    "number of pages": "pages",
    "start time": "geneactiv_start_time",
}
#: hex digit value of each byte (255: not a hex digit)
_HEX = np.full(256, 255, np.uint8)
for _k, _c in enumerate(b"0123456789ABCDEF"):
    _HEX[_c] = _k
for _k, _c in enumerate(b"abcdef"):
    _HEX[_c] = 10 + _k


def is_geneactiv_bin_head(lines: list[str]) -> bool:
    """Whether a file's first lines are a GENEActiv ``.bin`` header."""
    first = lines[0].strip() if lines else ""
    return first == "Device Identity" and any(
        s.replace(" ", "").lower().startswith("devicetype:geneactiv") for s in lines[:12]
    )


@dataclass(frozen=True)
class BinHeader:
    """What the header says: ``fields`` (key → value, keys lower case), ``gain`` and
    ``offset`` (3,) per axis, the measurement frequency ``rate_hz`` (Hz, or NaN) and
    ``lines`` (header lines before the first page)."""

    fields: dict[str, str]
    gain: np.ndarray
    offset: np.ndarray
    rate_hz: float
    lines: int

    def metadata(self) -> dict[str, str]:
        out = {"format": "geneactiv-bin"}
        for key, name in KEEP.items():
            if self.fields.get(key):
                out[name] = self.fields[key]
        if math.isfinite(self.rate_hz):
            out["sample_rate_hz"] = f"{self.rate_hz:g}"
        rng = self.fields.get("accelerometer range", "")
        try:
            out["range_g"] = f"{max(abs(float(v)) for v in rng.split(' to ')):g}"
        except ValueError:
            pass
        out["calibration"] = ",".join(
            f"{a} gain {g:g} offset {o:g}"
            for a, g, o in zip("xyz", self.gain, self.offset, strict=True)
        )
        return out


def _number(text: str) -> float:
    """The leading number of ``text`` (``"100 Hz"``: 100), NaN when none."""
    parts = text.strip().split()
    try:
        return float(parts[0]) if parts else math.nan
    except ValueError:
        return math.nan


def parse_header(lines: list[str], path: Path) -> BinHeader:
    """The header from its text lines (up to, not including, the first page)."""
    fields: dict[str, str] = {}
    for text in lines:
        key, colon, value = text.partition(":")
        if colon:
            fields.setdefault(key.strip().lower(), value.strip())
    missing = [k for k in CALIBRATION if not math.isfinite(_number(fields.get(k, "")))]
    if missing:
        raise InputError(path, f"GENEActiv .bin header has no calibration '{missing[0]}' "
                         "(Calibration Data section)")  # fmt: skip
    values = [_number(fields[k]) for k in CALIBRATION]
    gain = np.array(values[0::2])
    if not (gain != 0).all():
        raise InputError(path, "GENEActiv .bin header has a calibration gain of 0")
    rate = _number(fields.get("measurement frequency", ""))
    return BinHeader(fields, gain, np.array(values[1::2]), rate, len(lines))


@dataclass
class Pages:
    """The good pages of a chunk: ``time`` (n,) epoch s of each first sample, ``rate``
    (n,) Hz, and their samples ``acc`` (300 n, 3) in g."""

    time: np.ndarray
    rate: np.ndarray
    acc: np.ndarray


def _line_bounds(buf: np.ndarray, at_eof: bool) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (exclusive, without ``\\r``) of the whole lines of ``buf``; at
    the end of the file a last line without a line end counts too."""
    nl = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [buf.size]))
    if not at_eof or starts[-1] >= buf.size:
        starts, ends = starts[:-1], ends[:-1]
    cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    return starts, ends - cr


def _gather(buf: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """``(n, width)`` bytes from each start (zero past the buffer's end)."""
    padded = np.concatenate((buf, np.zeros(width, np.uint8)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)
    return windows[np.minimum(starts, buf.size)]


def _digits(cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The decimal number of each row of digit bytes ``cols`` (n, k), and which rows
    are all digits."""
    d = cols.astype(np.int64) - 48
    ok = ((d >= 0) & (d <= 9)).all(axis=1)
    value = np.zeros(cols.shape[0], np.int64)
    for k in range(cols.shape[1]):
        value = value * 10 + d[:, k]
    return value, ok


#: positions in "YYYY-MM-DD hh:mm:ss:mmm" of each field, and of the separators
_TIME_FIELDS = ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19), (20, 23))
_TIME_SEPS = ((4, b"-"), (7, b"-"), (10, b" "), (13, b":"), (16, b":"), (19, b":"))


def page_times(text: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Naive local whole seconds (n,) int64, milliseconds (n,) and validity (n,) of
    page times ``text`` ((n, 23) bytes ``YYYY-MM-DD hh:mm:ss:mmm``; a ``.`` before the
    milliseconds reads too)."""
    ok = np.ones(text.shape[0], bool)
    for pos, sep in _TIME_SEPS:
        ok &= (text[:, pos] == sep[0]) | ((pos == 19) & (text[:, pos] == ord(".")))
    parts = []
    for a, b in _TIME_FIELDS:
        value, good = _digits(text[:, a:b])
        parts.append(value)
        ok &= good
    seconds, valid = civil_seconds(*parts[:6])
    return seconds, parts[6], ok & valid


def decode_hex(hexes: np.ndarray, header: BinHeader) -> tuple[np.ndarray, np.ndarray]:
    """Samples (300 n, 3) in g of hex lines ``hexes`` ((n, 3600) bytes), and which
    lines are all hex digits (n,)."""
    nib = _HEX[hexes]  # (n, 3600)
    ok = (nib != 255).all(axis=1)
    nib = nib.reshape(-1, SAMPLES_PER_PAGE, HEX_PER_SAMPLE).astype(np.int32)
    axes = []
    for k in range(3):
        v = (nib[:, :, 3 * k] << 8) | (nib[:, :, 3 * k + 1] << 4) | nib[:, :, 3 * k + 2]
        axes.append(np.where(v >= 2048, v - 4096, v))  # 12-bit two's complement
    raw = np.stack(axes, axis=-1).reshape(-1, 3).astype(np.float64)
    return (raw * 100.0 - header.offset) / header.gain, ok


class GeneActivBinSource(BinarySource):
    """A GENEActiv ``.bin`` file read in chunks of whole pages."""

    name = "geneactiv-bin"
    unit = "page"
    corrupt = "not 10 lines, or an unreadable page time, frequency or hex line"
    #: (naive page time s, page number) of the last good pages before the next chunk
    _lone_context: tuple[tuple[float, int], ...] = ()
    #: page time and hex line of the last good page before the next chunk
    _last_page: bytes | None = None

    def __init__(self, path: Path, options: InputOptions, member: str | None = None) -> None:
        super().__init__(path, options, member)
        try:
            lines: list[str] = []
            self._pending = b""
            stream = self.input.stream
            while True:
                raw = stream.readline(MAX_HEADER_LINE + 1)
                if not raw:
                    break
                if len(raw) > MAX_HEADER_LINE:
                    raise InputError(path, f"header line longer than {MAX_HEADER_LINE} bytes: "
                                     "not a GENEActiv .bin header (a corrupt file?)",
                                     len(lines) + 1)  # fmt: skip
                if raw.rstrip(b"\r\n") == PAGE_START:
                    self._pending = raw  # the first page's first line
                    break
                if len(lines) >= MAX_HEADER_LINES:
                    raise InputError(path, f"no 'Recorded Data' page in the first "
                                     f"{MAX_HEADER_LINES} lines of a GENEActiv .bin file",
                                     len(lines) + 1)  # fmt: skip
                lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
            if not lines:
                raise InputError(path, "empty file")
            if not is_geneactiv_bin_head(lines):
                raise InputError(path, "not a GENEActiv .bin header (first line 'Device "
                                 "Identity', then 'Device Type:GENEActiv')", 1)  # fmt: skip
            self.header = parse_header(lines, path)
            self.data_line = len(lines) + 1
            zone = self.header.fields.get("time zone", "")
            # the file's own offset beats --tz, as for the CSV export
            self._tz = utc_offset(zone, path) or get_tz(options.tz, path)
            self.metadata.update(self.header.metadata())
            self.metadata["device_time_zone"] = str(self._tz)
        except BaseException:
            self.input.close()
            raise
        self._page_no = 1  # number of the next page (1-based)

    def _raw_chunks(self, rows: int) -> Iterator[tuple[bytes, bool, bytes]]:
        """``(bytes, at_eof, peek)`` of whole pages, about ``rows`` samples a chunk: each
        ends before a ``Recorded Data`` line (the last: at the end of the file); ``peek``
        is the whole page after it (read again in the next chunk; empty at the end)."""
        data = self._pending
        self._pending = b""
        for size in ramp_rows(rows):
            want = max(1, math.ceil(size / SAMPLES_PER_PAGE)) * PAGE_BYTES
            more = self.input.stream.read(max(want - len(data), 1 << 16))
            data += more
            if not more:
                if data:
                    yield data, True, b""
                return
            cut = data.rfind(b"\n" + PAGE_START)
            before = cut
            for _ in range(PEEK):  # the start of the pages to peek at
                before = data.rfind(b"\n" + PAGE_START, 0, max(before, 0))
            if before <= 0:
                self._check_span(len(data))
                continue  # not PEEK + 1 whole pages yet
            yield data[: before + 1], False, data[before + 1 : cut + 1]
            data = data[before + 1 :]

    def _check_span(self, size: int) -> None:
        """An :class:`InputError` when ``size`` bytes (more than :data:`MAX_PAGE_SPAN`)
        from page ``self._page_no`` on hold no next page: they are no pages, and reading
        on would hold the rest of the file in memory."""
        if size > MAX_PAGE_SPAN:
            raise InputError(self.path, f"page {self._page_no}: no next 'Recorded Data' line "
                             f"in {size} bytes: not GENEActiv pages (a corrupt "
                             "file?)")  # fmt: skip

    def _peek_times(self, pages: bytes) -> list[float]:
        """The naive page times (s) of whole pages' bytes, up to the first that does not
        read (:meth:`_peek_time`)."""
        out = []
        for k, page in enumerate(pages.split(b"\n" + PAGE_START)):
            time = self._peek_time(page + b"\n" if k == 0 else PAGE_START + page + b"\n")
            if time is None:
                break
            out.append(time)
        return out

    def _peek_time(self, page: bytes) -> float | None:
        """The naive page time (s) of one whole page's bytes, ``None`` when it does not
        read (not 10 lines, no page time, a frequency not in :data:`PAGE_RATES`)."""
        lines = page.split(b"\n")
        if len(lines) != PAGE_LINES + 1:
            return None
        tline, fline = lines[3].rstrip(b"\r"), lines[8].rstrip(b"\r")
        if len(tline) != len(TIME_PREFIX) + 23 or not tline.startswith(TIME_PREFIX):
            return None
        if not fline.startswith(FREQ_PREFIX):
            return None
        rate = _number(fline[len(FREQ_PREFIX) :].decode("ascii", "replace"))
        if not PAGE_RATES[0] <= rate <= PAGE_RATES[1]:
            return None
        text = np.frombuffer(tline[len(TIME_PREFIX) :], np.uint8).reshape(1, 23)
        local_s, ms, ok = page_times(text)
        return float(local_s[0] + ms[0] / 1000.0) if ok[0] else None

    def _lone(self, time: np.ndarray, rate: np.ndarray, good: np.ndarray, page_no: int,
              peek: bytes) -> np.ndarray:  # fmt: skip
        """Which pages (n,) of a chunk have a lone page time (:func:`lone_times`: off what
        the good pages around them say, in this chunk, the last ones before it and the
        ``peek`` page after it); ``time`` (n,) naive s, ``rate`` (n,) Hz, ``good`` (n,)
        the pages that read, the first numbered ``page_no``. The last good ones are
        kept for the next chunk."""
        own = np.flatnonzero(good)
        out = np.zeros(good.size, bool)
        if own.size == 0:
            return out
        after = self._peek_times(peek[:-1]) if peek else []  # without its last "\n"
        ctx_t = [c[0] for c in self._lone_context]
        ctx_q = [c[1] for c in self._lone_context]
        t = np.concatenate((ctx_t, time[own], after))
        q = np.concatenate((ctx_q, page_no + own, page_no + good.size + np.arange(len(after))))
        period = SAMPLES_PER_PAGE / float(np.median(rate[own]))
        lone = lone_times(t, q, period, bool(ctx_t), bool(after))
        mine = lone[len(ctx_t) : len(ctx_t) + own.size]
        out[own[mine]] = True
        judged = len(ctx_t) + own.size  # the context and this chunk's pages, not the peek
        kept = [(float(a), int(b)) for a, b, bad in zip(t[:judged], q[:judged], lone[:judged],
                                                          strict=True) if not bad]  # fmt: skip
        self._lone_context = tuple(kept[-2:])
        return out

    def _decode(self, data: bytes, at_eof: bool, peek: bytes = b"") -> Pages | None:
        """The good pages of ``data`` (whole pages; ``at_eof``: the file's last bytes, whose
        last page may be cut short); counts the bad ones. ``None`` when none is good.
        ``peek``: the page after ``data``, only to tell a lone page time (:meth:`_lone`)."""
        buf = np.frombuffer(data, np.uint8)
        starts, ends = _line_bounds(buf, at_eof)
        length = ends - starts
        head = _gather(buf, starts, len(PAGE_START)) == np.frombuffer(PAGE_START, np.uint8)
        first = np.flatnonzero((length == len(PAGE_START)) & head.all(axis=1))  # page starts
        n = first.size
        if n == 0:
            if at_eof and length.size:
                self.partial_block_dropped = True
            return None
        page_no = self._page_no
        self._page_no += n
        nxt = np.concatenate((first[1:], [starts.size]))
        span = nxt - first  # lines until the next page
        whole = span >= PAGE_LINES
        if at_eof and span[-1] < PAGE_LINES:  # the file ends inside its last page
            self.partial_block_dropped = True
            whole[-1] = False
            n -= 1
        good = whole & (span == PAGE_LINES)
        rows = np.where(whole, first, 0)

        def line(k: int) -> tuple[np.ndarray, np.ndarray]:
            """Start and length of line ``k`` of each page (any line for a bad page)."""
            at = np.minimum(rows + k, starts.size - 1)
            return starts[at], length[at]

        (hex_at, hex_len), (tline, tlen), (fline, flen) = line(9), line(3), line(8)
        hexes = _gather(buf, hex_at, HEX_LINE)
        good &= hex_len == HEX_LINE
        prefix = np.frombuffer(TIME_PREFIX, np.uint8)
        good &= (tlen == len(TIME_PREFIX) + 23) & (
            _gather(buf, tline, len(TIME_PREFIX)) == prefix
        ).all(axis=1)
        local_s, ms, ok = page_times(_gather(buf, tline + len(TIME_PREFIX), 23))
        good &= ok
        rate = self._rates(buf, fline, flen)
        good &= (rate >= PAGE_RATES[0]) & (rate <= PAGE_RATES[1])  # NaN is neither
        acc, hex_ok = decode_hex(hexes, self.header)
        good &= hex_ok
        page = np.concatenate((_gather(buf, tline, len(TIME_PREFIX) + 23), hexes), axis=1)
        twice, self._last_page = repeats(page, good, self._last_page)
        good &= ~twice
        lone = self._lone(local_s + ms / 1000.0, rate, good, page_no, peek)
        good &= ~lone
        epoch = local_to_epoch(local_s, good, self._tz, self.path, page_no, self.dst, self.unit)
        good &= np.isfinite(epoch)
        if at_eof and whole[-1] and not (good | lone)[-1] and not data.endswith(b"\n"):
            self.partial_block_dropped = True  # its last line cut short: truncated
            n -= 1
        self.skipped_blocks += n - int(good.sum())
        if not good.any():
            return None
        keep = np.repeat(good, SAMPLES_PER_PAGE)
        return Pages(epoch[good] + ms[good] / 1000.0, rate[good], acc[keep])

    def _rates(self, buf: np.ndarray, starts: np.ndarray, length: np.ndarray) -> np.ndarray:
        """Hz (n,) of the pages' ``Measurement Frequency:100.0 Hz`` lines (NaN: not one)."""
        width = 48
        text = _gather(buf, starts, width)
        text[np.arange(width)[None, :] >= length[:, None]] = 0
        out = np.full(text.shape[0], np.nan)
        todo = np.ones(text.shape[0], bool)
        while todo.any():  # one pass per distinct line (one, in a normal file)
            row = text[int(np.argmax(todo))]
            same = todo & (text == row).all(axis=1)
            line = bytes(row).rstrip(b"\x00")
            if line.startswith(FREQ_PREFIX):
                out[same] = _number(line[len(FREQ_PREFIX) :].decode("ascii", "replace"))
            todo &= ~same
        return out

    def blocks(self, rows: int) -> Iterator[RawBlock]:
        """Raw blocks of about ``rows`` samples: each page's samples from its page time,
        at its measurement frequency."""
        line = 1
        step = np.arange(SAMPLES_PER_PAGE, dtype=np.float64)
        for data, at_eof, peek in self._raw_chunks(rows):
            pages = self._decode(data, at_eof, peek)
            if pages is None:
                continue
            t = (pages.time[:, None] + step[None, :] / pages.rate[:, None]).reshape(-1)
            yield RawBlock(t, pages.acc, line)
            line += t.size
            self.samples_read += t.size
        self._finish()
        if self.partial_block_dropped:
            yield RawBlock(*torn_row(line))
