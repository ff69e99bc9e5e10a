"""False jerks in sensor noise alone: white, and low-passed as a board's own filter does.

Each recording is Gaussian noise on the three axes (plus gravity on z), either white or
low-passed by the detector's own 2nd-order Butterworth design at a quarter or a tenth
of the sample rate and scaled back to the same standard deviation, so neighbouring
samples are alike as in a board whose internal filter is narrower than its output rate.
Nothing in it is a jerk: every detection is false. The detector runs with the given
parameters and, beside them, with the energy trigger off (``energy_z`` 0: the peak
trigger alone), to show what the energy trigger adds.
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


def run(params: DetectorParams | None = None, quick: bool = False) -> list[Table]:
    """The false-jerk table."""
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
    return [table]
