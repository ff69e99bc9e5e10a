"""Detector parameters: one frozen dataclass, written next to every result."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from pipeline.errors import InputError


@dataclass(frozen=True)
class DetectorParams:
    """Every setting of the jerk detector.

    Times in seconds, frequencies in Hz, sizes in g; ``k_*`` are multiples of the
    local background level of the matching envelope.

    Envelopes
        baseline_block_s, baseline_s: the centred running median that follows gravity
        and posture (block length, window length).
        lp_hz: low-pass corner of the deviation from the baseline (sensor noise).
    Noise floor
        frame_s: frame length for background statistics.
        background_s: trailing window whose median frame level is the background.
        warmup_s: frames at the start of a run that share the median of this stretch.
    Thresholds
        k_high, k_low: high (trigger) and low (extent) multiples of the background.
        min_peak_g, min_low_g: absolute floors of the high and low thresholds.
    Segments
        merge_gap_s: dips shorter than this inside a run do not split it.
        end_fraction: a segment ends at the last sample above this share of its peak.
        max_jerk_s: a longer segment is movement, not a jerk.
        max_run_s: runs longer than this are cut into pieces (bounded memory).
        edge_s: segments this close to the start of a run, or cut by its end, are
        never jerks.
    Activity
        chain_gap_s, rhythm_min_any, rhythm_min_regular, rhythm_max_cv: segments whose
        onsets follow each other within ``chain_gap_s`` form a chain; a chain of at
        least ``rhythm_min_any``, or ``rhythm_min_regular`` with interval CV below
        ``rhythm_max_cv``, is rhythmic activity.
        activity_margin_s: a short segment this close to movement belongs to it.
        activity_join_s: activity periods closer than this are joined.
        sustained_s, sustained_g, k_sustained, floor_s: movement when the median
        envelope over ``sustained_s`` exceeds ``sustained_g`` and ``k_sustained`` x the
        quiet floor (the lowest background over the last ``floor_s``).
        posture_s, posture_g: movement when the baseline (gravity vector) moves more
        than ``posture_g`` within ``posture_s``.
        restless_s, restless_min, restless_segments: a short segment is part of a
        restless stretch when, within ``restless_s`` either side, there are
        ``restless_min`` movements, or one movement among ``restless_segments``
        segments.
        restless_bg_ratio, k_restless: where the background is above
        ``restless_bg_ratio`` x the quiet floor, a jerk must reach ``k_restless`` x the
        background.
    Pauses
        pause_s, pause_frames: a lone segment (nothing else within ``chain_gap_s``)
        whose envelope peak reaches ``k_restless`` x the median frame envelope of the
        ``pause_s`` before it and of the ``pause_s`` after it (at least
        ``pause_frames`` frames each) is a jerk in a pause, even near movement or in a
        restless stretch; where the background is raised, a segment that reaches
        ``k_high`` x the quiet floor is such a candidate. ``pause_s`` 0 turns pauses off.
    Extent
        floor_extent: where the background is raised (``restless_bg_ratio``), a run's
        low threshold is ``k_low`` x the quiet floor instead of ``k_low`` x that
        background, and a segment's onset there is where its core starts; everywhere,
        a segment's duration for ``max_jerk_s`` is its core, the span above
        ``end_fraction`` of its peak (see :mod:`pipeline.segmenter`). False: the
        extents before this rule (thresholds on the background, duration from the run's
        start).
    Energy trigger
        energy_z, energy_min_s, energy_max_s, energy_min_g: where the background is
        sensor noise (not restless, envelope background under ``sustained_g``), a run
        that never reaches the trigger but holds a window of ``energy_min_s`` to
        ``energy_max_s`` whose energy white noise of the energy background exceeds
        only as often as a standard normal exceeds ``energy_z`` (see
        :mod:`pipeline.energy`), and whose envelope reaches ``energy_min_g``, is a
        *quiet* candidate: a jerk when it is alone and not in a restless stretch.
        ``energy_z`` 0 turns it off.
    Interpolated stretches
        fill_guard: where the envelope carries a stretch filled in by interpolation
        (three samples on one line: a dropped packet, see :mod:`pipeline.fills`), the
        triggers must reach ``k_high`` x the unfiltered noise (from the energy
        background) and the energy trigger is not sought. False: as before this rule.
    Beats
        pulse_s, pulse_share, pulse_bg_ratio, k_pulse: the pulse level is the envelope
        maximum of blocks of ``pulse_s`` that ``pulse_share`` of the blocks of the last
        ``background_s`` reach, blocks of movement (mean envelope above ``sustained_g``)
        left out (see :mod:`pipeline.pulse`); where it stands above
        ``pulse_bg_ratio`` x the background (a beat in nearly every block: the heart
        seen by a chest strap), a jerk must reach ``k_pulse`` x the pulse level and the
        energy trigger is not sought. ``pulse_s`` 0 turns it off.
    """

    baseline_block_s: float = 0.1
    baseline_s: float = 1.1
    lp_hz: float = 20.0
    frame_s: float = 0.25
    background_s: float = 30.0
    warmup_s: float = 2.0
    k_high: float = 4.0
    k_low: float = 2.0
    min_peak_g: float = 0.04
    min_low_g: float = 0.012
    merge_gap_s: float = 0.06
    end_fraction: float = 0.25
    max_jerk_s: float = 0.36
    max_run_s: float = 60.0
    edge_s: float = 1.0
    chain_gap_s: float = 1.5
    rhythm_min_any: int = 10
    rhythm_min_regular: int = 5
    rhythm_max_cv: float = 0.15
    activity_margin_s: float = 0.75
    activity_join_s: float = 3.0
    sustained_s: float = 3.0
    sustained_g: float = 0.05
    k_sustained: float = 3.0
    floor_s: float = 300.0
    posture_s: float = 0.5
    posture_g: float = 0.1
    restless_s: float = 15.0
    restless_min: int = 4
    restless_segments: int = 10
    restless_bg_ratio: float = 1.2
    k_restless: float = 8.0
    pause_s: float = 2.0
    pause_frames: int = 4
    floor_extent: bool = True
    energy_z: float = 5.0
    energy_min_s: float = 0.02
    energy_max_s: float = 0.3
    energy_min_g: float = 0.05
    fill_guard: bool = True
    pulse_s: float = 1.25
    pulse_share: float = 0.8
    pulse_bg_ratio: float = 2.5
    k_pulse: float = 2.0

    def __post_init__(self) -> None:
        problems = range_problems(self)
        if problems:
            raise ValueError(problems[0])

    def as_dict(self) -> dict[str, float | int]:
        """The parameters as a plain dict (for JSON sidecars)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, float | int]) -> DetectorParams:
        """Parameters from a dict; unknown keys raise ``ValueError``."""
        unknown = unknown_fields(values)
        if unknown:
            raise ValueError(unknown)
        return cls(**values)


def unknown_fields(values: dict[str, object]) -> str | None:
    """``unknown detector parameter(s): …`` for the keys of ``values`` that are not
    fields of :class:`DetectorParams`, or ``None``."""
    unknown = sorted(set(values) - {f.name for f in fields(DetectorParams)})
    return f"unknown detector parameter(s): {', '.join(unknown)}" if unknown else None


@dataclass(frozen=True)
class Bound:
    """The values a numeric field may take: ``low`` to ``high``, each end itself only
    when ``low_ok`` / ``high_ok`` (a length that must be positive has ``low`` 0,
    ``low_ok`` False); ``off`` is a value outside the range that turns the rule off
    (``energy_z`` 0). ``unit`` is for messages."""

    low: float
    high: float
    low_ok: bool = True
    high_ok: bool = True
    off: float | None = None
    unit: str = ""

    def describe(self) -> str:
        """The range in words, e.g. ``above 0 s and at most 10 s``."""
        unit = f" {self.unit}" if self.unit else ""
        low = f"at least {self.low:g}" if self.low_ok else f"above {self.low:g}"
        high = f"at most {self.high:g}" if self.high_ok else f"below {self.high:g}"
        text = f"{low}{unit} and {high}{unit}"
        return text + (f" (or {self.off:g} for off)" if self.off is not None else "")

    def holds(self, value: float) -> bool:
        """True when ``value`` is in range (or the off value)."""
        if self.off is not None and value == self.off:
            return True
        above = value >= self.low if self.low_ok else value > self.low
        below = value <= self.high if self.high_ok else value < self.high
        return above and below


_S, _G = "s", "g"
#: The range of every numeric field. Lengths are bounded above too: the detector keeps
#: windows of ``x / frame_s`` frames, so a window of a day in frames of a microsecond
#: would ask for terabytes; each bound is far beyond any setting that makes sense.
BOUNDS: dict[str, Bound] = {
    "baseline_block_s": Bound(0.01, 10.0, unit=_S),
    "baseline_s": Bound(0.0, 60.0, False, unit=_S),
    "lp_hz": Bound(2.0, 10_000.0, unit="Hz"),
    "frame_s": Bound(0.01, 10.0, unit=_S),
    "background_s": Bound(0.0, 3600.0, False, unit=_S),
    "warmup_s": Bound(0.0, 3600.0, unit=_S),
    "k_high": Bound(0.0, 1e6, False),
    "k_low": Bound(0.0, 1e6, False),
    "min_peak_g": Bound(0.0, 1e5, unit=_G),
    "min_low_g": Bound(0.0, 1e5, unit=_G),
    "merge_gap_s": Bound(0.0, 60.0, unit=_S),
    "end_fraction": Bound(0.0, 1.0, False),
    "max_jerk_s": Bound(0.0, 60.0, False, unit=_S),
    "max_run_s": Bound(1.0, 3600.0, unit=_S),
    "edge_s": Bound(0.0, 60.0, unit=_S),
    "chain_gap_s": Bound(0.0, 600.0, False, unit=_S),
    "rhythm_min_any": Bound(2, 1e6),
    "rhythm_min_regular": Bound(2, 1e6),
    "rhythm_max_cv": Bound(0.0, 100.0),
    "activity_margin_s": Bound(0.0, 600.0, unit=_S),
    "activity_join_s": Bound(0.0, 3600.0, unit=_S),
    "sustained_s": Bound(0.0, 600.0, False, unit=_S),
    "sustained_g": Bound(0.0, 1e5, unit=_G),
    "k_sustained": Bound(0.0, 1e6, False),
    "floor_s": Bound(0.0, 3600.0, False, unit=_S),
    "posture_s": Bound(0.0, 600.0, False, unit=_S),
    "posture_g": Bound(0.0, 1e5, False, unit=_G),
    "restless_s": Bound(0.0, 3600.0, unit=_S),
    "restless_min": Bound(1, 1e6),
    "restless_segments": Bound(1, 1e6),
    "restless_bg_ratio": Bound(0.0, 1e6, False),
    "k_restless": Bound(0.0, 1e6, False),
    "pause_s": Bound(0.0, 600.0, unit=_S),
    "pause_frames": Bound(1, 1e6),
    "energy_z": Bound(1.0, 20.0, off=0.0),
    "energy_min_s": Bound(0.0, 10.0, False, unit=_S),
    "energy_max_s": Bound(0.0, 10.0, False, unit=_S),
    "energy_min_g": Bound(0.0, 1e5, unit=_G),
    "pulse_s": Bound(0.0, 600.0, unit=_S),
    "pulse_share": Bound(0.0, 1.0, False, False),
    "pulse_bg_ratio": Bound(0.0, 1e6, False),
    "k_pulse": Bound(0.0, 1e6, False),
}
#: Pairs (a, b) where ``a`` must not exceed ``b``.
ORDERED = (("energy_min_s", "energy_max_s"), ("baseline_block_s", "baseline_s"))


def range_problems(params: DetectorParams) -> list[str]:
    """What is out of range in ``params``, one sentence each (empty when all is well).

    A value of the wrong type is left to :func:`read_params_file` to name.
    """
    problems, fine = [], set()
    for name, bound in BOUNDS.items():
        value = getattr(params, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(value) and bound.holds(value):
            fine.add(name)
        else:
            problems.append(f"{name} must be {bound.describe()}, not {value:g}")
    for low, high in ORDERED:
        a, b = getattr(params, low), getattr(params, high)
        if {low, high} <= fine and a > b:
            problems.append(f"{low} ({a:g}) must not exceed {high} ({b:g})")
    return problems


def read_params_file(path: str | Path) -> DetectorParams:
    """Detector parameters from a JSON file; the fields it does not give keep their defaults.

    The file holds either an object of :class:`DetectorParams` fields, or a jerkcount
    output whose parameters to reuse: an ``EVENTS.json`` (its ``detector_params``) or a
    ``summary.json`` (its ``parameters.detector``). Raises :class:`InputError` naming
    the file (and line, for bad JSON) for anything else.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM, as Windows editors write
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except UnicodeDecodeError:  # it would be named '<input>', not the file
        raise InputError(path, "not a text file (not UTF-8): give a JSON file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(path, f"not JSON: {err.msg}", line=err.lineno) from None
    except RecursionError:  # json's own traceback
        raise InputError(path, "not JSON: nested too deeply") from None
    if isinstance(data, dict) and isinstance(data.get("detector_params"), dict):
        data = data["detector_params"]
    elif isinstance(data, dict) and isinstance(data.get("parameters"), dict):
        data = data["parameters"].get("detector")
    elif isinstance(data, dict) and "jerkcount_version" in data:
        raise InputError(path, "a jerkcount output without its detector parameters (no "
                         "'detector_params' or 'parameters.detector' object): give an "
                         "EVENTS.json or summary.json as written")  # fmt: skip
    if not isinstance(data, dict):
        raise InputError(path, "expected a JSON object of detector parameters")
    unknown = unknown_fields(data)
    if unknown:
        raise InputError(path, unknown)
    kinds = {f.name: f.type for f in fields(DetectorParams)}
    for name, value in data.items():
        _check_value(path, name, kinds[name], value)
    try:
        return DetectorParams.from_dict(data)  # and its ranges (range_problems)
    except ValueError as err:
        raise InputError(path, str(err)) from None


def _check_value(path: Path, name: str, kind: object, value: object) -> None:
    """Raise :class:`InputError` unless ``value`` fits a field of type ``kind``."""
    kind = getattr(kind, "__name__", kind)  # a string under postponed annotations
    if kind == "bool":
        ok, want = isinstance(value, bool), "true or false"
    elif kind == "int":
        ok, want = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    else:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok, want = ok and math.isfinite(value), "a number"
    if not ok:
        raise InputError(path, f"{name} must be {want}, not {json.dumps(value)}")
