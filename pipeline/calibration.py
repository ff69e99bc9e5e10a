"""Autocalibration: gravity should read 1 g when the sensor is still.

A sensor's axes have small offset and gain errors (tens of mg, a few %). Whenever the
sensor lies still it measures gravity alone, so the vector of the three axes should
have magnitude 1 g in any orientation. Like GGIR's sphere fit (van Hees et al. 2014,
J Appl Physiol 117:738), this module:

1. finds still periods in a first pass over the raw rows: ``window_s`` (10 s) windows
   in which every axis' standard deviation is below ``still_sd_g`` (13 mg) — only the
   window means are kept, so memory stays bounded (a day is 8640 windows);
2. checks that the still windows are spread over orientations: every axis must have
   still windows beyond ``+min_axis_g`` and below ``-min_axis_g`` (0.3 g), else the
   fit is not determined ("not enough orientations");
3. fits per-axis ``offset`` (g) and ``scale`` so that ``offset + scale * raw`` of the
   still means lies on the unit sphere: iterated least squares, each step regressing
   the nearest point on the sphere on the raw means, axis by axis;
4. applies it only when it matters and helps: the still-window error before (RMS of
   ``|v| - 1``, g) is above ``apply_above_g`` (10 mg, GGIR's own target), the error
   after is smaller, and the fit is plausible (scale within 0.8-1.25, offsets under
   0.5 g). Already calibrated data is left exactly as it is.

The result (status, offsets, scales, errors before and after, windows used) goes
into the data-quality record. ``--calibrate auto`` turns it on (default ``off``: the
first pass reads the file twice, and the detector works on deviations from a running
baseline, so an offset error does not change events; a gain error scales ``peak_g``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.errors import InputError

if TYPE_CHECKING:
    from pipeline.formats.base import RawBlock

log = logging.getLogger(__name__)

CALIBRATE_MODES = ("auto", "off")


@dataclass(frozen=True)
class CalibrationParams:
    """Settings of the autocalibration (times in s, sizes in g)."""

    window_s: float = 10.0
    still_sd_g: float = 0.013
    min_windows: int = 10
    min_axis_g: float = 0.3
    apply_above_g: float = 0.01
    max_hours: float = 72.0
    max_windows: int = 100_000
    max_iter: int = 200


@dataclass
class Calibration:
    """Outcome of the autocalibration.

    status : ``applied``, ``not needed`` (already within ``apply_above_g``), ``not
        enough still periods``, ``not enough orientations`` or ``no improvement``.
    offset_g, scale : per-axis correction, calibrated = offset + scale * raw.
    error_before_g, error_after_g : RMS of ``|v| - 1`` over the still windows, g.
    still_windows : windows used; hours_scanned : hours of data the first pass read.
    reason : the status in one plain sentence with its numbers (why a calibration was
        refused: how many still windows, which side of which axis has none, how far
        from 1 g the still vectors are, or how the fit failed).
    """

    status: str = "not enough still periods"
    offset_g: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    scale: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    error_before_g: float | None = None
    error_after_g: float | None = None
    still_windows: int = 0
    hours_scanned: float = 0.0
    reason: str = ""

    @property
    def applied(self) -> bool:
        return self.status == "applied"

    def apply(self, a: np.ndarray) -> np.ndarray:
        """Calibrated copy of raw ``(m, 3)`` samples in g (the same array when not applied)."""
        if not self.applied:
            return a
        return np.asarray(self.offset_g) + np.asarray(self.scale) * a

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class StillWindows:
    """Collects the means of still windows from raw rows streamed in time order."""

    def __init__(self, fs: float, params: CalibrationParams | None = None) -> None:
        self.p = params or CalibrationParams()
        self.min_n = max(2, int(0.5 * self.p.window_s * fs))
        self.means: list[np.ndarray] = []
        #: windows with enough samples seen, still or not, and the smallest largest-axis
        #: SD among them (g): a quietest window above ``still_sd_g`` means the sensor's
        #: noise alone keeps every window from being still
        self.windows_seen = 0
        self.quietest_sd_g: float | None = None
        self.t_first: float | None = None
        self.t_last: float | None = None
        self._open: tuple[int, int, np.ndarray, np.ndarray] | None = None

    @property
    def full(self) -> bool:
        """True once enough hours or windows were seen."""
        if self.t_first is None or self.t_last is None:
            return False
        return (
            self.t_last - self.t_first >= self.p.max_hours * 3600.0
            or len(self.means) >= self.p.max_windows
        )

    def push(self, t: np.ndarray, a: np.ndarray) -> None:
        """Add raw rows: ``t`` (m,) epoch s, ``a`` (m, 3) g (rows with NaN are skipped)."""
        ok = np.isfinite(t) & np.isfinite(a).all(axis=1)
        t, a = t[ok], a[ok]
        if t.size == 0:
            return
        if self.t_first is None:
            self.t_first = float(t[0])
        self.t_last = float(t[-1]) if self.t_last is None else max(self.t_last, float(t[-1]))
        wid = np.floor((t - self.t_first) / self.p.window_s).astype(np.int64)
        starts = np.flatnonzero(np.concatenate(([True], wid[1:] != wid[:-1])))
        counts = np.diff(np.concatenate((starts, [t.size])))
        s1 = np.add.reduceat(a, starts, axis=0)
        s2 = np.add.reduceat(a * a, starts, axis=0)
        for i, st in enumerate(starts.tolist()):
            w, n = int(wid[st]), int(counts[i])
            if self._open is not None and self._open[0] == w:
                _, n0, a1, a2 = self._open
                self._open = (w, n0 + n, a1 + s1[i], a2 + s2[i])
            else:
                self._close()
                self._open = (w, n, s1[i].copy(), s2[i].copy())

    def _close(self) -> None:
        if self._open is None:
            return
        _, n, s1, s2 = self._open
        self._open = None
        if n < self.min_n or len(self.means) >= self.p.max_windows:
            return
        mean = s1 / n
        sd = np.sqrt(np.maximum(s2 / n - mean * mean, 0.0))
        norm = float(np.linalg.norm(mean))
        self.windows_seen += 1
        top = float(sd.max())
        if self.quietest_sd_g is None or top < self.quietest_sd_g:
            self.quietest_sd_g = top
        if (sd < self.p.still_sd_g).all() and 0.5 < norm < 1.5:
            self.means.append(mean)

    def finish(self) -> np.ndarray:
        """The still-window means ``(k, 3)``, g."""
        self._close()
        return np.array(self.means).reshape(-1, 3)


def _rms_error(v: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.linalg.norm(v, axis=1) - 1.0) ** 2)))


def fit_sphere(means: np.ndarray, max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis ``(offset, scale)`` so that ``offset + scale * means`` lies on the unit sphere.

    ``means`` ``(k, 3)`` g, still-window means spread over orientations. Iterated least
    squares: project the calibrated means onto the sphere, regress the projections on
    the raw means axis by axis, repeat until the parameters settle (1e-9).
    """
    offset, scale = np.zeros(3), np.ones(3)
    mx = means.mean(axis=0)
    dx = means - mx
    var = np.einsum("ij,ij->j", dx, dx)
    for _ in range(max_iter):
        cal = offset + scale * means
        target = cal / np.linalg.norm(cal, axis=1, keepdims=True)
        new_scale = np.einsum("ij,ij->j", dx, target - target.mean(axis=0)) / var
        new_offset = target.mean(axis=0) - new_scale * mx
        done = np.abs(new_scale - scale).max() < 1e-9 and np.abs(new_offset - offset).max() < 1e-9
        offset, scale = new_offset, new_scale
        if done:
            break
    return offset, scale


def _missing_sides(means: np.ndarray, min_axis_g: float) -> list[str]:
    """The sides of the sphere without a still window, e.g. ``["x below -0.3 g"]``."""
    out = []
    for k, axis in enumerate("xyz"):
        if not (means[:, k] > min_axis_g).any():
            out.append(f"{axis} above +{min_axis_g:g} g")
        if not (means[:, k] < -min_axis_g).any():
            out.append(f"{axis} below -{min_axis_g:g} g")
    return out


def calibrate_windows(
    means: np.ndarray,
    params: CalibrationParams | None = None,
    hours: float = 0.0,
    windows_seen: int | None = None,
    quietest_sd_g: float | None = None,
) -> Calibration:
    """Decide and fit the calibration from still-window means ``(k, 3)`` (see the module).

    ``windows_seen`` (windows with data, still or not) and ``quietest_sd_g`` (the
    smallest largest-axis SD among them, g), when known, go into the ``reason`` of a
    refusal for too few still windows.
    """
    p = params or CalibrationParams()
    k = int(means.shape[0])
    result = Calibration(still_windows=k, hours_scanned=round(hours, 3))
    if k < p.min_windows:
        seen = "" if windows_seen is None else f" of {windows_seen}"
        result.reason = (
            f"{k}{seen} {p.window_s:g}-s windows in {hours:.2f} h were still (every axis' "
            f"SD below {p.still_sd_g * 1000:g} mg); {p.min_windows} are needed"
        )
        if quietest_sd_g is not None and quietest_sd_g >= p.still_sd_g:
            result.reason += (
                f"; the quietest window's SD is {quietest_sd_g * 1000:.1f} mg: the "
                "sensor's noise alone is above the still criterion"
            )
        return result
    before = _rms_error(means)
    result.error_before_g = round(before, 6)
    missing = _missing_sides(means, p.min_axis_g)
    if missing:
        result.status = "not enough orientations"
        result.reason = (
            f"{k} still windows, none with {', '.join(missing)}: the sphere is not "
            "covered, so offset and scale cannot be told apart"
        )
        return result
    if before <= p.apply_above_g:
        result.status = "not needed"
        result.reason = (
            f"still vectors are {before * 1000:.1f} mg RMS from 1 g over {k} windows "
            f"(corrected only above {p.apply_above_g * 1000:g} mg)"
        )
        return result
    offset, scale = fit_sphere(means, p.max_iter)
    after = _rms_error(offset + scale * means)
    result.error_after_g = round(after, 6)
    plausible = bool((scale > 0.8).all() and (scale < 1.25).all() and (abs(offset) < 0.5).all())
    if not (plausible and math.isfinite(after) and after < before):
        result.status = "no improvement"
        why = (
            f"the fit's error {after * 1000:.1f} mg is not below {before * 1000:.1f} mg"
            if plausible
            else "the fit is implausible (a scale outside 0.8-1.25 or an offset over 0.5 g)"
        )
        result.reason = why + "; the data are left as they are"
        return result
    result.status = "applied"
    result.reason = (
        f"still vectors {before * 1000:.1f} mg RMS from 1 g before, "
        f"{after * 1000:.1f} mg after, over {k} windows"
    )
    result.offset_g = [float(x) for x in offset]
    result.scale = [float(x) for x in scale]
    return result


def calibrate_file(
    path: str | Path,
    options: Any,
    fs: float,
    read_rows: int = 262_144,
    params: CalibrationParams | None = None,
) -> Calibration:
    """First pass over a recording: collect still windows and fit (see the module).

    Reads at most ``params.max_hours`` of raw rows, keeping only window means (bounded
    memory). A bad row ends the pass early (the main pass reports it with its line).
    """
    from pipeline.formats import open_source
    from pipeline.readahead import ReadAhead, helper_threads

    p = params or CalibrationParams()
    still = StillWindows(fs, p)
    source = open_source(Path(path), options)
    blocks: Iterator[RawBlock] = source.blocks(read_rows)
    if helper_threads():
        blocks = ReadAhead(blocks, 1, "jerkcount-calibrate")  # parse ahead
    try:
        for block in blocks:
            still.push(block.t, block.a)
            if still.full:
                break
    except InputError:
        pass  # the main pass names the bad line
    finally:
        blocks.close()  # the thread stops before its file is closed
        source.close()
    hours = 0.0 if still.t_first is None else (still.t_last - still.t_first) / 3600.0
    means = still.finish()
    result = calibrate_windows(means, p, hours, still.windows_seen, still.quietest_sd_g)
    log.info("%s: calibration %s (%d still windows)", path, result.status, result.still_windows)
    return result
