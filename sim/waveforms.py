"""Jerk waveforms as continuous-time functions, evaluated at the actual sample times.

A jerk is ``amplitude * w(tau / duration) * direction`` for ``0 <= tau <= duration``
(zero outside), with ``direction`` a random 3-D unit vector and ``w`` a unit-peak
shape (``max |w| = 1``), so the peak magnitude of the added vector is exactly
``amplitude`` (this is the truth ``peak_g``). Families:

``halfsine``  ``sin(pi x)``: one smooth lobe.
``gaussian``  a Gaussian bump (sd 0.15 of the duration), shifted to be 0 at the edges.
``biphasic``  a half-sine positive lobe over ``[0, a]`` then a negative one of relative
              size ``r`` over ``[a, 1]`` (``a`` 0.35–0.6, ``r`` 0.4–1).
``ringing``   ``sin(2 pi f tau) exp(-3 x) (1 - x)``, ``f`` 8–25 Hz, at least 2 cycles.

Because the shape is evaluated at sample times (not laid out by sample counts), a
20 ms jerk at 25 Hz touches at most one sample, and what the sensor sees of it
depends on where the samples fall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import FAMILIES, NightConfig

_GAUSS_SD = 0.15
_GAUSS_FLOOR = float(np.exp(-0.5 * (0.5 / _GAUSS_SD) ** 2))


@dataclass(frozen=True)
class JerkSet:
    """Parameters of ``m`` jerks (arrays of length ``m`` unless stated).

    onset : s from night start. duration : s. amplitude : peak magnitude, g.
    direction : (m, 3) unit vectors. family : int index into :data:`FAMILIES`.
    p1, p2 : shape parameters (biphasic split ``a`` and ratio ``r``; ringing
    frequency in Hz and unused).
    """

    onset: np.ndarray
    duration: np.ndarray
    amplitude: np.ndarray
    direction: np.ndarray
    family: np.ndarray
    p1: np.ndarray
    p2: np.ndarray

    def __len__(self) -> int:
        return int(self.onset.size)

    @property
    def family_names(self) -> np.ndarray:
        return np.asarray(FAMILIES, dtype=object)[self.family]


def random_unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 3)`` unit vectors uniform on the sphere."""
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def draw_jerks(cfg: NightConfig, rng: np.random.Generator, onset: np.ndarray) -> JerkSet:
    """Draw family, duration, size and direction for jerks at ``onset`` (s)."""
    m = onset.size
    allowed = np.array([FAMILIES.index(f) for f in cfg.families])
    family = allowed[rng.integers(0, allowed.size, m)]
    lo, hi = cfg.jerk_min_ms / 1000.0, cfg.jerk_max_ms / 1000.0
    duration = np.exp(rng.uniform(np.log(lo), np.log(hi), m))
    amplitude = np.clip(
        cfg.jerk_median_g * np.exp(cfg.jerk_sigma * rng.standard_normal(m)),
        cfg.jerk_min_g,
        cfg.jerk_max_g,
    )
    p1 = rng.uniform(0.35, 0.6, m)
    p2 = rng.uniform(0.4, 1.0, m)
    ring = family == FAMILIES.index("ringing")
    freq = rng.uniform(8.0, 25.0, m)
    # ringing shows at least two cycles, within the duration limits
    ring_lo = np.maximum(lo, 2.0 / freq)
    ring_dur = np.where(ring_lo < hi, rng.uniform(0, 1, m) * (hi - ring_lo) + ring_lo, hi)
    duration = np.where(ring, ring_dur, duration)
    p1 = np.where(ring, np.maximum(freq, 2.0 / duration), p1)
    return JerkSet(
        onset=onset.astype(np.float64),
        duration=duration,
        amplitude=amplitude,
        direction=random_unit_vectors(rng, m),
        family=family,
        p1=p1,
        p2=p2,
    )


def shape(family: np.ndarray, x: np.ndarray, dur: np.ndarray, p1: np.ndarray, p2: np.ndarray):
    """Unnormalised shape values at relative times ``x`` in ``[0, 1]`` (elementwise)."""
    out = np.zeros_like(x)
    f = family
    m = f == 0
    out[m] = np.sin(np.pi * x[m])
    m = f == 1
    out[m] = (np.exp(-0.5 * ((x[m] - 0.5) / _GAUSS_SD) ** 2) - _GAUSS_FLOOR) / (1 - _GAUSS_FLOOR)
    m = f == 2
    if m.any():
        a, r, xm = p1[m], p2[m], x[m]
        first = xm < a
        out[m] = np.where(
            first,
            np.sin(np.pi * xm / a),
            -r * np.sin(np.pi * np.clip((xm - a) / (1 - a), 0, 1)),
        )
    m = f == 3
    if m.any():
        xm = x[m]
        out[m] = np.sin(2 * np.pi * p1[m] * dur[m] * xm) * np.exp(-3 * xm) * (1 - xm)
    return out


def peak_of_shape(jerks: JerkSet) -> np.ndarray:
    """``max |shape|`` per jerk on a fine grid (1 except for ringing)."""
    norm = np.ones(len(jerks))
    ring = np.flatnonzero(jerks.family == FAMILIES.index("ringing"))
    if ring.size:
        # the largest lobe of a decaying oscillation is the first one
        cycles = jerks.p1[ring] * jerks.duration[ring]
        x = np.linspace(0, 1, 257)[None, :] * (0.5 / cycles)[:, None]
        fam = np.full(x.shape, 3)
        vals = shape(
            fam.ravel(),
            x.ravel(),
            np.repeat(jerks.duration[ring], x.shape[1]),
            np.repeat(jerks.p1[ring], x.shape[1]),
            np.zeros(x.size),
        ).reshape(x.shape)
        norm[ring] = np.abs(vals).max(axis=1)
    return norm


def span_index(t: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices with ``start[j] <= t <= end[j]`` for all j, and the owner ``j``.

    ``t`` sorted ``(n,)``; returns ``(idx, owner)``, both int arrays of equal length.
    """
    i0 = np.searchsorted(t, start, side="left")
    i1 = np.searchsorted(t, end, side="right")
    lens = np.maximum(i1 - i0, 0)
    owner = np.repeat(np.arange(start.size), lens)
    first = np.cumsum(lens) - lens
    idx = np.arange(int(lens.sum())) - np.repeat(first, lens) + np.repeat(i0, lens)
    return idx, owner


def render_jerks(t: np.ndarray, jerks: JerkSet, out: np.ndarray) -> None:
    """Add the jerks' acceleration (g) to ``out`` ``(n, 3)`` at sample times ``t`` (s)."""
    if len(jerks) == 0:
        return
    idx, j = span_index(t, jerks.onset, jerks.onset + jerks.duration)
    x = np.clip((t[idx] - jerks.onset[j]) / jerks.duration[j], 0.0, 1.0)
    w = shape(jerks.family[j], x, jerks.duration[j], jerks.p1[j], jerks.p2[j])
    scale = jerks.amplitude / peak_of_shape(jerks)
    np.add.at(out, idx, (w * scale[j])[:, None] * jerks.direction[j])
