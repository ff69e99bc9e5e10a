"""Assemble a simulated night: sensor clock, confounders, jerks, body, sensor; plus truth.

Random streams: one :class:`numpy.random.SeedSequence` from ``config.seed`` is split
into independent streams for the clock, confounders, jerk timing, jerk shapes, body,
sensor noise and heartbeat, so e.g. switching confounders off does not change the noise.
"""

from __future__ import annotations

import logging
import time as _time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.atomic import atomic_write, file_set
from pipeline.recording import runs
from sim.body import Breathing, Heartbeat, Posture, Transition
from sim.config import (
    CONFOUNDER_CLEARANCE_S,
    EDGE_MARGIN_S,
    OUTAGE_CLEARANCE_S,
    NightConfig,
)
from sim.confounders import Confounder, plan_confounders, render_confounder
from sim.sensor import SampleClock, draw_bias, lost_in_spans, sample_clock, sensor_output
from sim.timing import FreeTime, generate_onsets
from sim.waveforms import JerkSet, draw_jerks, render_jerks

log = logging.getLogger(__name__)

TRUTH_COLUMNS = ["kind", "time", "end", "peak_g", "duration_ms", "detail", "lost_samples"]
GAP_COLUMNS = ["start", "end"]
DEVICE = "jerkcount-sim"
SIM_VERSION = "1"
#: Samples per block of the per-sample work (bounds peak memory).
BLOCK = 1 << 20


@dataclass
class SimulatedNight:
    """A simulated recording with its ground truth.

    time : ``(n,)`` float64 epoch seconds UTC of the samples that reached the host,
        increasing, jittered; dropped samples are absent.
    acc : ``(n, 3)`` float64 acceleration in g as reported (biased, noisy, quantised,
        clipped).
    truth : DataFrame with :data:`TRUTH_COLUMNS`, sorted by ``time``; ``lost_samples``
        counts the samples the sensor took between a row's ``time`` and ``end`` that
        never reached the host (dropped packets: a jerk is kept clear of outages, not
        of them).
    config : the configuration that made it.
    jerk_group : ``(m,)`` int, for each ``kind == "jerk"`` row of ``truth`` (in order),
        the unit it belongs to (one train, one burst, or one single jerk).
    gaps : DataFrame ``start``, ``end`` (epoch s): the runs of lost samples, from the
        nominal time of the first lost sample to that of the next received one.
    bias : ``(3,)`` the sensor's constant bias per axis, g.
    """

    time: np.ndarray
    acc: np.ndarray
    truth: pd.DataFrame
    config: NightConfig
    jerk_group: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    gaps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=GAP_COLUMNS))
    bias: np.ndarray = field(default_factory=lambda: np.zeros(3))

    @property
    def jerks(self) -> pd.DataFrame:
        """The ``kind == "jerk"`` rows of the truth."""
        return self.truth[self.truth["kind"] == "jerk"].reset_index(drop=True)

    def metadata(self) -> dict[str, str]:
        """``# key: value`` metadata for the recording file (all values strings)."""
        c = self.config
        return {
            "device": DEVICE,
            "sim_version": SIM_VERSION,
            "fs": f"{c.fs:g}",
            "pattern": c.pattern,
            "seed": str(c.seed),
            "hours": f"{c.hours:g}",
            "rate_per_hour": f"{c.rate_per_hour:g}",
            "rate_drift": f"{c.rate_drift:g}",
            "confounders": str(c.confounders).lower(),
            "range_g": f"{c.range_g:g}",
            "bits": str(c.bits),
            "noise_g": f"{c.noise_g:g}",
            **({"heartbeat_g": f"{c.heartbeat_g:g}"} if c.heartbeat_g > 0 else {}),
        }


def _free_time(cfg: NightConfig, confs: list[Confounder], outages: np.ndarray) -> FreeTime:
    """Where jerk onsets may go: keeps jerk onset..end clear of confounders and outages."""
    longest = cfg.jerk_max_ms / 1000.0
    excl = [
        (c.start - CONFOUNDER_CLEARANCE_S - longest, c.end + CONFOUNDER_CLEARANCE_S) for c in confs
    ]
    excl += [(a - OUTAGE_CLEARANCE_S - longest, b + OUTAGE_CLEARANCE_S) for a, b in outages]
    return FreeTime.from_exclusions(EDGE_MARGIN_S, cfg.duration_s - EDGE_MARGIN_S - longest, excl)


def _truth(
    cfg: NightConfig, jerks: JerkSet, confs: list[Confounder], clock: SampleClock
) -> pd.DataFrame:
    """The truth rows of the jerks and confounders, in time order (:data:`TRUTH_COLUMNS`)."""
    jt = pd.DataFrame(
        {
            "kind": "jerk",
            "time": cfg.start + jerks.onset,
            "end": cfg.start + jerks.onset + jerks.duration,
            "peak_g": jerks.amplitude,
            "duration_ms": jerks.duration * 1000.0,
            "detail": jerks.family_names.astype(str),
            "lost_samples": lost_in_spans(clock, jerks.onset, jerks.onset + jerks.duration),
        }
    )
    ct = pd.DataFrame(
        {
            "kind": [c.kind for c in confs],
            "time": [cfg.start + c.start for c in confs],
            "end": [cfg.start + c.end for c in confs],
            "peak_g": [float(c.peak_g) for c in confs],
            "duration_ms": [(c.end - c.start) * 1000.0 for c in confs],
            "detail": [c.detail for c in confs],
            "lost_samples": lost_in_spans(
                clock,
                np.array([c.start for c in confs], dtype=np.float64),
                np.array([c.end for c in confs], dtype=np.float64),
            ),
        }
    )
    frames = [f for f in (jt, ct) if len(f)]
    if not frames:
        return empty_truth()
    truth = pd.concat(frames, ignore_index=True)
    truth = truth.sort_values("time", kind="mergesort").reset_index(drop=True)
    return truth.astype(
        {"time": float, "end": float, "peak_g": float, "duration_ms": float, "lost_samples": int}
    )


def empty_truth() -> pd.DataFrame:
    """A truth frame with no rows and the right columns and dtypes."""
    return pd.DataFrame(
        {
            "kind": pd.Series(dtype=object),
            "time": pd.Series(dtype=float),
            "end": pd.Series(dtype=float),
            "peak_g": pd.Series(dtype=float),
            "duration_ms": pd.Series(dtype=float),
            "detail": pd.Series(dtype=object),
            "lost_samples": pd.Series(dtype=np.int64),
        }
    )


def simulate_night(config: NightConfig) -> SimulatedNight:
    """Simulate one night of wrist accelerometer data with ground truth.

    Time is about 1 s per million samples; memory about 45 bytes per sample plus a
    fixed ~0.3 GB for block temporaries.
    """
    t_wall = _time.perf_counter()
    cfg = config
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(cfg.seed).spawn(7)]
    r_clock, r_conf, r_timing, r_shape, r_body, r_sensor, r_heart = streams

    clock = sample_clock(cfg, r_clock)
    u0, confs = plan_confounders(cfg, r_conf)
    free = _free_time(cfg, confs, clock.outages)
    onsets = generate_onsets(cfg, r_timing, free)
    jerks = draw_jerks(cfg, r_shape, onsets.time)

    t = clock.t[clock.keep]
    transitions: list[Transition] = [tr for c in confs for tr in c.transitions]
    posture = Posture.draw(r_body, u0, transitions, cfg.duration_s)
    breath = Breathing.draw(r_body, cfg.breathing_g)
    heart = Heartbeat.draw(r_heart, cfg.heartbeat_g, cfg.duration_s)
    bias = draw_bias(cfg, r_sensor)
    acc = np.empty((t.size, 3))
    for i in range(0, t.size, BLOCK):  # blocks bound the temporaries' memory
        tb = t[i : i + BLOCK]
        ab = posture.gravity(tb)
        ab += breath.at(tb)
        if cfg.heartbeat_g > 0:
            ab += heart.at(tb)
        for c in confs:
            render_confounder(c, tb, ab)
        render_jerks(tb, jerks, ab)
        acc[i : i + BLOCK] = sensor_output(ab, cfg, r_sensor, bias)

    gap_runs = runs(~clock.keep)
    gaps = pd.DataFrame(
        {
            "start": [cfg.start + a / cfg.fs for a, _ in gap_runs],
            "end": [cfg.start + b / cfg.fs for _, b in gap_runs],
        },
        columns=GAP_COLUMNS,
    )
    night = SimulatedNight(
        time=cfg.start + t,
        acc=acc,
        truth=_truth(cfg, jerks, confs, clock),
        config=cfg,
        jerk_group=onsets.group.astype(np.int64),
        gaps=gaps,
        bias=bias,
    )
    log.info(
        "simulated %.2f h at %g Hz: %d samples (%d lost), %d jerks, %d confounders in %.2f s",
        cfg.hours,
        cfg.fs,
        t.size,
        int((~clock.keep).sum()),
        len(jerks),
        len(confs),
        _time.perf_counter() - t_wall,
    )
    return night


def write_truth_csv(path: str | Path, truth: pd.DataFrame) -> Path:
    """Write a truth frame as CSV with exactly :data:`TRUTH_COLUMNS`, atomically.

    ``time``/``end`` epoch seconds with 4 decimals, ``peak_g`` 4, ``duration_ms`` 2,
    ``lost_samples`` a whole number.
    """
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise ValueError(f"truth lacks columns {missing}")
    frame = truth[TRUTH_COLUMNS].copy()
    for col, fmt in (
        ("time", "%.4f"),
        ("end", "%.4f"),
        ("peak_g", "%.4f"),
        ("duration_ms", "%.2f"),
    ):
        frame[col] = np.char.mod(fmt, frame[col].to_numpy(dtype=np.float64))
    path = Path(path)
    with atomic_write(path) as fh:
        frame.to_csv(fh, index=False, lineterminator="\n")
    return path


def check_night_names(recording: str | Path, truth: str | Path) -> str:
    """The form the recording is written in, by its name
    (:func:`pipeline.writer.recording_form`: canonical CSV, ``.gz`` compressed,
    ``.parquet``); :class:`ValueError` for a recording name promising a form not
    written, or a truth name promising anything but plain CSV (``.gz``, ``.parquet``,
    ...: :func:`pipeline.score.score_files` reads plain CSV)."""
    from pipeline.writer import recording_form

    form = recording_form(recording)
    if recording_form_of_truth(truth) != "csv":
        raise ValueError(f"{truth}: the truth is written as plain CSV: give it a name "
                         "ending in .csv")  # fmt: skip
    return form


def recording_form_of_truth(truth: str | Path) -> str:
    """``"csv"`` when ``truth``'s name promises plain text, else what it promises."""
    from pipeline.writer import recording_form

    try:
        return recording_form(truth)
    except ValueError:
        return "other"


def write_night(night: SimulatedNight, recording: str | Path, truth: str | Path) -> None:
    """Write ``night`` as a canonical recording (CSV; gzip-compressed CSV for a name
    ending in ``.gz``, Parquet for ``.parquet``) and its ground-truth CSV, as one set
    (:func:`pipeline.atomic.file_set`, the recording last): an interrupted run never
    leaves a new recording beside an earlier run's truth. A name that promises another
    form is a :class:`ValueError` (:func:`check_night_names`), before anything is
    written."""
    from pipeline.inputs import check_spares_inputs
    from pipeline.writer import write_samples

    form = check_night_names(recording, truth)
    check_spares_inputs([truth, recording], [])
    with file_set([truth, recording]) as (truth_tmp, recording_tmp):
        write_truth_csv(truth_tmp, night.truth)
        write_samples(recording_tmp, night.time, night.acc, night.metadata(), form)


def read_truth_csv(path: str | Path) -> pd.DataFrame:
    """Read a truth CSV written by :func:`write_truth_csv` (same columns and dtypes)."""
    frame = pd.read_csv(
        path,
        dtype={
            "kind": str,
            "time": float,
            "end": float,
            "peak_g": float,
            "duration_ms": float,
            "detail": str,
            "lost_samples": np.int64,
        },
        keep_default_na=False,
    )
    return frame[TRUTH_COLUMNS]
