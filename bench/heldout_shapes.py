"""Jerk shapes the simulator does not make, for a held-out accuracy check.

The detector was developed against the simulator's four waveform families
(:mod:`sim.waveforms`). These five are written here, apart from the simulator, and
were never used to choose a parameter; they stand for jerks of other origins:

``twitch``    a muscle twitch: an alpha function, fast rise to its peak at 15 % of the
              duration, slow decay (``(x / 0.15) exp(1 - x / 0.15)``, its end value
              taken off linearly).
``plateau``   a rigid knock: a flat top with 10 % ramps at either end (trapezoid).
``triphasic`` a Ricker wavelet over ±4 of its width: a main lobe between two opposite
              side lobes of 45 %.
``impact``    an abrupt start: a step to the peak at the onset, then an exponential
              decay to zero (``exp(-x / 0.2) (1 - x)``).
``swing``     a jerk that turns: a half-sine magnitude whose direction rotates by 90°
              over the jerk (the simulator's jerks keep one direction).

Each is a unit-peak shape ``w(x)`` of relative time ``x`` in ``[0, 1]`` (``max |w| =
1``, computed on a fine grid), scaled to the jerk's size in g. Durations are
log-uniform over 20–300 ms and sizes lognormal as the simulator draws them (the issue's
definition of a jerk), directions uniform on the sphere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import NightConfig
from sim.waveforms import random_unit_vectors

HELDOUT_FAMILIES = ("twitch", "plateau", "triphasic", "impact", "swing")
_FINE = np.linspace(0.0, 1.0, 4001)


def _twitch(x: np.ndarray) -> np.ndarray:
    tau = 0.15
    end = (1.0 / tau) * np.exp(1.0 - 1.0 / tau)
    return (x / tau) * np.exp(1.0 - x / tau) - end * x


def _plateau(x: np.ndarray) -> np.ndarray:
    return np.clip(np.minimum(x, 1.0 - x) / 0.1, 0.0, 1.0)


def _triphasic(x: np.ndarray) -> np.ndarray:
    u = (x - 0.5) * 8.0
    edge = (1.0 - 16.0) * np.exp(-8.0)
    return (1.0 - u * u) * np.exp(-0.5 * u * u) - edge


def _impact(x: np.ndarray) -> np.ndarray:
    return np.exp(-x / 0.2) * (1.0 - x)


def _swing(x: np.ndarray) -> np.ndarray:
    return np.sin(np.pi * x)


_SHAPES = {
    "twitch": _twitch,
    "plateau": _plateau,
    "triphasic": _triphasic,
    "impact": _impact,
    "swing": _swing,
}


def unit_shape(family: str, x: np.ndarray) -> np.ndarray:
    """``w(x)`` of ``family`` at relative times ``x`` (any shape), with ``max |w| = 1``
    over ``[0, 1]``; 0 outside ``[0, 1]``."""
    f = _SHAPES[family]
    peak = float(np.abs(f(_FINE)).max())
    x = np.asarray(x, dtype=np.float64)
    inside = (x >= 0.0) & (x <= 1.0)
    return np.where(inside, f(np.clip(x, 0.0, 1.0)) / peak, 0.0)


@dataclass(frozen=True)
class HeldoutJerks:
    """``m`` jerks of one held-out family: onsets (epoch s), durations (s), sizes (g,
    peak magnitude), first and second directions ``(m, 3)`` (the second is used by
    ``swing`` only, orthogonal to the first)."""

    family: str
    onset: np.ndarray
    duration: np.ndarray
    amplitude: np.ndarray
    direction: np.ndarray
    turn_to: np.ndarray


def draw_heldout(
    family: str, onsets: np.ndarray, median_g: float, rng: np.random.Generator
) -> HeldoutJerks:
    """Durations, sizes and directions of jerks of ``family`` at ``onsets`` (epoch s)."""
    if family not in _SHAPES:
        raise ValueError(f"unknown held-out family {family!r}; known: {HELDOUT_FAMILIES}")
    cfg = NightConfig(jerk_median_g=median_g)
    m = onsets.size
    lo, hi = cfg.jerk_min_ms / 1000.0, cfg.jerk_max_ms / 1000.0
    duration = np.exp(rng.uniform(np.log(lo), np.log(hi), m))
    amplitude = np.clip(
        median_g * np.exp(cfg.jerk_sigma * rng.standard_normal(m)), cfg.jerk_min_g, cfg.jerk_max_g
    )
    d1 = random_unit_vectors(rng, m)
    d2 = rng.normal(size=(m, 3))
    d2 -= (d2 * d1).sum(axis=1, keepdims=True) * d1
    d2 /= np.linalg.norm(d2, axis=1, keepdims=True)
    return HeldoutJerks(family, onsets.astype(np.float64), duration, amplitude, d1, d2)


def render_heldout(time: np.ndarray, jerks: HeldoutJerks, acc: np.ndarray) -> None:
    """Add the jerks to ``acc`` ``(n, 3)`` g in place, at sample times ``time`` (n,)
    epoch s (each jerk evaluated at the samples inside it)."""
    for k in range(jerks.onset.size):
        a = int(np.searchsorted(time, jerks.onset[k], side="left"))
        b = int(np.searchsorted(time, jerks.onset[k] + jerks.duration[k], side="right"))
        if b <= a:
            continue
        x = (time[a:b] - jerks.onset[k]) / jerks.duration[k]
        w = jerks.amplitude[k] * unit_shape(jerks.family, x)
        if jerks.family == "swing":
            theta = 0.5 * np.pi * x
            d = (
                np.cos(theta)[:, None] * jerks.direction[k]
                + np.sin(theta)[:, None] * jerks.turn_to[k]
            )
        else:
            d = np.broadcast_to(jerks.direction[k], (x.size, 3))
        acc[a:b] += w[:, None] * d
