"""False jerks in sensor noise alone: white, and low-passed as a board's own filter does.

Each recording is Gaussian noise on the three axes (plus gravity on z), either white or
low-passed by the detector's own 2nd-order Butterworth design at a quarter or a tenth
of the sample rate and scaled back to the same standard deviation, so neighbouring
samples are alike as in a board whose internal filter is narrower than its output rate.
Nothing in it is a jerk: every detection is false. The detector runs with the given
parameters and, beside them, with the energy trigger off (``energy_z`` 0: the peak
trigger alone), to show what the energy trigger adds.

A second table drops packets from white noise as a Bluetooth link does (each 40-ms
packet lost with a probability of 1 %) and fills the holes as the reader does (a line
between the samples either side), with the detector's guard for such stretches
(``fill_guard``, :mod:`pipeline.fills`) on and off.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bench.report import Table
from pipeline.detector import DetectorParams, detect_recording
from pipeline.filters import lowpass_taps
from pipeline.recording import Recording

RATES_HZ = (50.0, 100.0, 200.0, 1000.0)
BANDS = (None, 0.25, 0.1)
NOISE_G = (0.01, 0.02)
#: Seconds of noise per recording (1000 Hz: a quarter of it); --quick: a sixth.
SECONDS = 3600.0
SEED = 1
DROP_RATES_HZ = (100.0, 200.0, 500.0, 1000.0)
PACKET_S = 0.04
DROP_PROB = 0.01


def noise(fs: float, seconds: float, sigma: float, band: float | None, seed: int) -> np.ndarray:
    """``(n, 3)`` g: noise of std ``sigma`` per axis, white or low-passed at ``band`` x
    ``fs``, plus 1 g on z."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    taps = lowpass_taps(fs, band * fs) if band is not None else None
    extra = 0 if taps is None else taps.size
    x = rng.normal(0.0, 1.0, (n + extra, 3))
    if taps is not None:
        x = np.stack([np.convolve(x[:, k], taps, mode="valid")[:n] for k in range(3)], axis=1)
    x = x[:n] * (sigma / x[:n].std())
    x[:, 2] += 1.0
    return x


def drop_packets(x: np.ndarray, fs: float, seed: int) -> np.ndarray:
    """``x`` (n, 3) with each ``PACKET_S`` packet lost with probability ``DROP_PROB``
    and filled in as the reader fills a hole: linearly between the samples either side."""
    rng = np.random.default_rng(seed)
    per = max(1, round(PACKET_S * fs))
    keep = np.repeat(rng.random(-(-x.shape[0] // per)) >= DROP_PROB, per)[: x.shape[0]]
    keep[[0, -1]] = True
    idx = np.arange(x.shape[0], dtype=np.float64)
    kept = np.flatnonzero(keep)
    return np.stack([np.interp(idx, kept, x[kept, k]) for k in range(3)], axis=1)


def run(params: DetectorParams | None = None, quick: bool = False) -> list[Table]:
    """The false-jerk tables: noise alone, and noise with dropped packets."""
    params = params or DetectorParams()
    peak_only = replace(params, energy_z=0.0)
    table = Table(
        "False jerks per hour in sensor noise alone",
        ["fs (Hz)", "noise band", "noise (g)", "hours", "jerks/h", "jerks/h, peak trigger only"],
    )
    for fs in RATES_HZ:
        seconds = SECONDS / (4.0 if fs >= 1000 else 1.0) / (6.0 if quick else 1.0)
        for band in BANDS:
            for sigma in NOISE_G:
                rec = Recording(0.0, fs, noise(fs, seconds, sigma, band, SEED))
                hours = seconds / 3600.0
                found = len(detect_recording(rec, params).events)
                base = len(detect_recording(rec, peak_only).events)
                label = "white" if band is None else f"low-passed at {band:g} x fs"
                table.add([f"{fs:g}", label, f"{sigma:g}", f"{hours:.2f}",
                           f"{found / hours:.1f}", f"{base / hours:.1f}"])  # fmt: skip
    table.caption = (
        "Gaussian noise, no jerks, no movement: every detection is false. Low-passed "
        "noise (the detector's 2nd-order Butterworth design, scaled back to the same "
        "std) stands for a board whose own filter is narrower than its output rate; the "
        "energy trigger measures the noise's inflation and widens its thresholds to it "
        "(see pipeline/energy.py)."
    )
    return [table, drops_table(params, quick)]


def drops_table(params: DetectorParams, quick: bool) -> Table:
    """False jerks per hour in white noise with 1 % of its packets dropped and filled."""
    unguarded = replace(params, fill_guard=False)
    table = Table(
        "False jerks per hour in white noise with dropped packets, filled in by the reader",
        ["fs (Hz)", "noise (g)", "hours", "jerks/h", "jerks/h, fill guard off"],
    )
    for fs in DROP_RATES_HZ:
        seconds = SECONDS / (4.0 if fs >= 500 else 1.0) / (6.0 if quick else 1.0)
        for sigma in NOISE_G:
            acc = drop_packets(noise(fs, seconds, sigma, None, SEED), fs, SEED)
            rec = Recording(0.0, fs, acc)
            hours = seconds / 3600.0
            found = len(detect_recording(rec, params).events)
            base = len(detect_recording(rec, unguarded).events)
            table.add([f"{fs:g}", f"{sigma:g}", f"{hours:.2f}",
                       f"{found / hours:.1f}", f"{base / hours:.1f}"])  # fmt: skip
    table.caption = (
        f"Each {PACKET_S * 1000:g}-ms packet lost with probability {DROP_PROB:g} and the "
        "hole drawn as a line between the samples either side, as the reader fills a "
        "hole under 1 s. The low-pass cannot average the line's noise down as it does "
        "white noise's; with the fill guard the triggers there follow the unfiltered "
        "noise (see pipeline/fills.py)."
    )
    return table
