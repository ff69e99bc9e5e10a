"""The reader's checks on raw rows: rate changes, clipping, stuck axes.

Each watch takes the raw rows of a recording block by block (:class:`Rows`, in file
order, after the repairs) and keeps what it needs between blocks, so a check over a
7-day file holds one block at a time. What they find goes into the data-quality
record (:mod:`pipeline.quality`): :class:`RateWatch` the rate changes (with their
lines), :class:`ClipWatch` the clip levels, :class:`StuckWatch` the stuck axes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.formats.base import RawBlock
from pipeline.quality import AXES, DataQuality, RateChange, StuckAxis
from pipeline.rate import snap_rate

if TYPE_CHECKING:
    from pipeline.reader import ReaderParams

#: rows per step of the rate, clip and stuck-axis checks (bounded temporaries)
WATCH_ROWS = 65_536


@dataclass
class Rows:
    """Raw rows with their file lines: ``t`` (m,) epoch s, ``a`` (m, 3) g, ``line`` (m,)."""

    t: np.ndarray
    a: np.ndarray
    line: np.ndarray

    @classmethod
    def of(cls, raw: RawBlock) -> Rows:
        line = raw.first_line + np.arange(raw.t.size, dtype=np.int64)
        return cls(np.asarray(raw.t, np.float64), np.asarray(raw.a, np.float64), line)

    def take(self, keep: np.ndarray | slice) -> Rows:
        """The rows selected by a mask, an index array or a slice (a view)."""
        return Rows(self.t[keep], self.a[keep], self.line[keep])


#: a window's period must differ from the current one by this many standard errors
#: (as well as by ``rate_tolerance``) to be a change: heavy jitter is not one
RATE_CHANGE_SE = 6.0


class RateWatch:
    """Finds changes of the raw sample rate (windows of ``rate_window`` intervals).

    A window whose median interval, refined as the mean of the intervals within 45 %
    of it (jitter and timestamp rounding average out, dropped samples are left out),
    differs from the current period by more than ``rate_tolerance`` is a change; its
    place is the split of the last two windows that best fits old and new period.
    """

    def __init__(self, fs: float, p: ReaderParams) -> None:
        self.period = 1.0 / fs
        self.p = p
        self.d = np.empty(0)
        self.t_end = np.empty(0)
        self.line_end = np.empty(0, dtype=np.int64)
        self.prev: tuple[float, int] | None = None

    def push(self, rows: Rows) -> list[RateChange]:
        t, line = rows.t, rows.line
        if self.prev is not None:
            t = np.concatenate(([self.prev[0]], t))
            line = np.concatenate(([self.prev[1]], line))
        self.prev = (float(t[-1]), int(line[-1]))
        d = np.diff(t)
        ok = (d > 0) & (d <= self.p.max_gap_s)
        self.d = np.concatenate((self.d, d[ok]))
        self.t_end = np.concatenate((self.t_end, t[1:][ok]))
        self.line_end = np.concatenate((self.line_end, line[1:][ok]))
        w, out = self.p.rate_window, []
        while self.d.size >= 2 * w:
            nwin = self.d.size // w - 1  # whole windows after the first (kept for the split)
            wins = self.d[w : (nwin + 1) * w].reshape(nwin, w)
            off = self._off_windows(wins)
            if off.size == 0:
                k = nwin * w
                self.d, self.t_end, self.line_end = self.d[k:], self.t_end[k:], self.line_end[k:]
                break
            i = int(off[0]) * w  # the window before the first changed one starts here
            self.d, self.t_end, self.line_end = self.d[i:], self.t_end[i:], self.line_end[i:]
            new, se = _robust_period_se(self.d[w : 2 * w])
            if abs(new / self.period - 1.0) > max(
                self.p.rate_tolerance, RATE_CHANGE_SE * se / self.period
            ):
                seg = self.d[: 2 * w]
                old_cost = np.cumsum(np.abs(seg - self.period))
                new_cost = np.cumsum(np.abs(seg - new)[::-1])[::-1]
                cost = np.concatenate(([0.0], old_cost[:-1])) + new_cost
                j = int(np.argmin(cost))
                new = _robust_period(seg[j:])
                old_fs, new_fs = snap_rate(1.0 / self.period), snap_rate(1.0 / new)
                out.append(RateChange(int(self.line_end[j]), float(self.t_end[j]), old_fs, new_fs))
                self.period = new
                k = max(j, 1)
            else:
                k = w
            self.d, self.t_end, self.line_end = self.d[k:], self.t_end[k:], self.line_end[k:]
        return out

    def _off_windows(self, wins: np.ndarray) -> np.ndarray:
        """Indices of the windows (rows of ``wins``, (nwin, w) intervals in s) whose robust
        period differs from the current one by more than ``rate_tolerance``.

        A window whose every interval is within 90 % of the tolerance of the period has
        its robust mean (a mean of some of those intervals) within it too, so only the
        other windows (drops, a changed rate, large jitter) need their median.
        """
        tol = self.p.rate_tolerance
        cand = np.arange(wins.shape[0])
        if tol >= 1e-6:
            margin = 0.9 * tol * self.period
            sure = (wins.max(axis=1) - self.period <= margin) & (
                self.period - wins.min(axis=1) <= margin
            )
            cand = np.flatnonzero(~sure)
            if cand.size == 0:
                return cand
            wins = wins[cand]
        med = np.median(wins, axis=1)
        near = np.abs(wins - med[:, None]) < 0.45 * med[:, None]
        count = np.maximum(near.sum(axis=1), 1)
        mean = (wins * near).sum(axis=1) / count
        var = (((wins - mean[:, None]) ** 2) * near).sum(axis=1) / np.maximum(count - 1, 1)
        allowed = np.maximum(tol, RATE_CHANGE_SE * np.sqrt(var / count) / self.period)
        return cand[np.abs(mean / self.period - 1.0) > allowed]


def _robust_period(d: np.ndarray) -> float:
    """Mean of the intervals within 45 % of their median (s)."""
    return _robust_period_se(d)[0]


def _robust_period_se(d: np.ndarray) -> tuple[float, float]:
    """:func:`_robust_period` and its standard error (s)."""
    m = float(np.median(d))
    near = d[np.abs(d - m) < 0.45 * m]
    if near.size < 2:
        return (float(near.mean()) if near.size else m), 0.0
    return float(near.mean()), float(near.std(ddof=1) / np.sqrt(near.size))


class ClipWatch:
    """Finds the sensor's clip levels: from metadata ``range_g`` or values piling up.

    With ``range_g`` every raw sample with an axis at or beyond 99.5 % of it is clipped.
    Without, each axis and sign keeps its extreme value, how many samples hold it (and
    their times) and how many hold the next lower value: an extreme of at least
    ``clip_min_g`` held by ``clip_min_samples`` or more samples, twice as many as the
    next value, is a clip level.
    """

    MAX_TIMES = 100_000  # 0.8 MB of clipped-sample times at most

    def __init__(self, range_g: str | None, p: ReaderParams) -> None:
        self.p = p
        try:
            self.range = float(range_g) if range_g not in (None, "") else None
        except ValueError:
            self.range = None
        if self.range is not None and not (math.isfinite(self.range) and self.range > 0):
            self.range = None
        self._meta_times: list[np.ndarray] = []
        self._meta_count = 0
        # per (axis, sign): [value, count, times list, second value, second count]
        self._top: dict[str, list[Any]] = {}
        self._levels: dict[str, float] = {}
        self._tiled: tuple[Any, np.ndarray, np.ndarray] | None = None

    def push(self, t: np.ndarray, a: np.ndarray) -> None:
        """Take raw rows ``t`` (m,) epoch s, ``a`` (m, 3) g (finite, m > 0)."""
        if self.range is not None:
            level = 0.995 * self.range
            if not ((a >= level).any() or (a <= -level).any()):
                return  # no sample at the range (|a| >= level, the test below)
            hit = (np.abs(a) >= level).any(axis=1)
            if hit.any():
                self._meta_count += int(hit.sum())
                if sum(x.size for x in self._meta_times) < self.MAX_TIMES:
                    self._meta_times.append(t[hit])
            return
        if len(self._top) == 6 and not self._may_change(a):
            return
        for k in range(3):
            for sign, key in ((1.0, f"{AXES[k]}+"), (-1.0, f"{AXES[k]}-")):
                cur = self._top.get(key)
                v = sign * a[:, k]
                m1 = float(v.max())
                at = v == m1
                below = v[~at]
                m2 = float(below.max()) if below.size else -math.inf
                c2 = int((below == m2).sum()) if below.size else 0
                if cur is None or m1 > cur[0]:
                    second = (m2, c2) if cur is None or m2 > cur[0] else (cur[0], cur[1])
                    if cur is not None and m2 == cur[0]:
                        second = (m2, c2 + cur[1])
                    self._top[key] = [m1, int(at.sum()), [t[at]], *second]
                elif m1 == cur[0]:
                    cur[1] += int(at.sum())
                    if sum(x.size for x in cur[2]) < self.MAX_TIMES:
                        cur[2].append(t[at])
                    if m2 > cur[3]:
                        cur[3], cur[4] = m2, c2
                    elif m2 == cur[3]:
                        cur[4] += c2
                elif m1 > cur[3]:
                    cur[3], cur[4] = m1, int(at.sum())
                elif m1 == cur[3]:
                    cur[4] += int(at.sum())

    def _may_change(self, a: np.ndarray) -> bool:
        """False when every value of ``a`` (m, 3) lies below the second value kept for its
        axis and sign, so that :meth:`push` would change nothing (``-a >= c`` is exactly
        ``a <= -c``).

        Compared against the thresholds tiled to (m, 3) and kept between calls:
        broadcasting a (3,) row over a C-ordered (m, 3) array is several times slower.
        """
        hi = tuple(float(self._top[f"{ax}+"][3]) for ax in AXES)
        lo = tuple(-float(self._top[f"{ax}-"][3]) for ax in AXES)
        m = a.shape[0]
        if self._tiled is None or self._tiled[0] != (hi, lo) or self._tiled[1].shape[0] < m:
            n = max(m, WATCH_ROWS)
            self._tiled = ((hi, lo), np.tile(hi, (n, 1)), np.tile(lo, (n, 1)))
        _, hi_rows, lo_rows = self._tiled
        return bool((a >= hi_rows[:m]).any() or (a <= lo_rows[:m]).any())

    def _clipped_keys(self) -> list[str]:
        p = self.p
        return [
            key
            for key, (v, n, _, _, n2) in self._top.items()
            if v >= p.clip_min_g and n >= p.clip_min_samples and n >= 2 * n2
        ]

    def times(self) -> np.ndarray:
        """Sorted times (epoch s) of the raw samples at a clip level."""
        if self.range is not None:
            parts = self._meta_times
        else:
            parts = [x for key in self._clipped_keys() for x in self._top[key][2]]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0)

    def finish(self, q: DataQuality) -> None:
        """Write the clip levels and counts into the quality record."""
        if self.range is not None:
            if self._meta_count:
                q.clip_source = "metadata"
                q.clip_levels_g = {"range": self.range}
                q.clipped_samples = self._meta_count
        else:
            keys = self._clipped_keys()
            if keys:
                q.clip_source = "values"
                q.clip_levels_g = {
                    k: (1.0 if k.endswith("+") else -1.0) * self._top[k][0] for k in keys
                }
                q.clipped_samples = int(sum(self._top[k][1] for k in keys))


class StuckWatch:
    """Finds axes that hold exactly one value for ``stuck_s`` or more while another moves."""

    MAX_FOUND = 100

    def __init__(self, stuck_s: float) -> None:
        self.stuck_s = stuck_s
        self.found: list[StuckAxis] = []
        # per axis: run value, run start time, run start line, other axes moved in run
        self._run: list[list[Any]] | None = None
        self._last_t = math.nan
        self._last_a: np.ndarray | None = None

    def push(self, rows: Rows) -> None:
        """Take the next raw rows (``t`` (m,) epoch s, ``a`` (m, 3) g, m > 0).

        A run of axis ``k`` is a stretch of rows holding one value; it ends at the row
        where the value changes. Only runs long enough to be stuck need to know whether
        another axis moved during them, so that is looked up for those few runs (and
        for the run still open at the end of the rows).
        """
        t, a, line = rows.t, rows.a, rows.line
        if self._run is None:
            self._run = [[a[0, k], t[0], int(line[0]), False] for k in range(3)]
            self._last_a = a[0].copy()
            self._last_t = float(t[0])
        assert self._last_a is not None
        m = t.size
        change = np.empty((m, 3), dtype=bool)  # row i differs from the row before
        np.not_equal(a[0], self._last_a, out=change[0])
        np.not_equal(a[1:], a[:-1], out=change[1:])
        for k in range(3):
            others = [j for j in range(3) if j != k]
            bounds = np.flatnonzero(change[:, k])  # rows where a new run starts
            run = self._run[k]
            if bounds.size:
                self._closed_runs(k, bounds, rows, change)
                last = int(bounds[-1])
                moved_last = bool(change[last + 1 :, others].any())
                self._run[k] = [a[last, k], float(t[last]), int(line[last]), moved_last]
            else:
                run[3] = bool(run[3]) or bool(change[:, others].any())
        self._last_a = a[-1].copy()
        self._last_t = float(t[-1])

    def _closed_runs(self, k: int, bounds: np.ndarray, rows: Rows, change: np.ndarray) -> None:
        """Report the long runs of axis ``k`` that end inside ``rows``.

        ``bounds`` (r,) are the rows where a new run starts; the closed runs are the one
        carried in (ending before ``bounds[0]``) and ``bounds[i - 1]`` up to
        ``bounds[i]``. A run's last row is the one before the next run starts.
        """
        t, a, line = rows.t, rows.a, rows.line
        run = self._run[k]  # type: ignore[index]
        others = [j for j in range(3) if j != k]
        first_end = float(t[bounds[0] - 1]) if bounds[0] > 0 else self._last_t
        if bounds.size > 1:
            # t[b - 1] <= t[b] and rounding is monotonic: the times between run starts
            # bound the run lengths from above (no long run: the common case)
            if first_end - run[1] < self.stuck_s and (
                float(np.diff(t[bounds]).max()) < self.stuck_s
            ):
                return
        elif first_end - run[1] < self.stuck_s:
            return
        t_start = np.concatenate(([run[1]], t[bounds[:-1]]))
        t_end = np.where(bounds > 0, t[np.maximum(bounds - 1, 0)], self._last_t)
        long = np.flatnonzero(t_end - t_start >= self.stuck_s)
        for i in long.tolist():
            end = int(bounds[i])
            if i == 0:
                moved = bool(run[3]) or bool(change[:end, others].any())
                value, ln = run[0], run[2]
            else:
                begin = int(bounds[i - 1])
                moved = bool(change[begin + 1 : end, others].any())
                value, ln = a[begin, k], int(line[begin])
            if moved:
                self._add(k, float(t_start[i]), float(t_end[i]), float(value), ln)

    def _add(self, k: int, start: float, end: float, value: float, line: int) -> None:
        if len(self.found) < self.MAX_FOUND:
            self.found.append(StuckAxis(AXES[k], start, end, value, line))

    def finish(self) -> None:
        """Close the runs still open at the end of the file."""
        if self._run is None:
            return
        for k, (value, start, line, moved) in enumerate(self._run):
            if moved and self._last_t - start >= self.stuck_s:
                self._add(k, float(start), float(self._last_t), float(value), int(line))
        self._run = None
