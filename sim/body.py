"""The body under the sensor: gravity on a changing posture, and breathing.

Gravity is the 1 g specific force the sensor reads at rest, pointing "up" in sensor
axes. Its direction is a chain of postures joined by :class:`Transition` s (roll-overs,
getting up to walk, shifts while restless): during a transition the direction turns
along the great circle (slerp) with a smoothstep profile, between transitions it
wanders slowly (a few degrees over minutes). Breathing adds a few mg at 0.2–0.33 Hz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.waveforms import random_unit_vectors


@dataclass(frozen=True)
class Transition:
    """Gravity direction turns to ``to`` (unit 3-vector) between ``start`` and ``end`` (s)."""

    start: float
    end: float
    to: np.ndarray


def rotate_away(
    rng: np.random.Generator, u: np.ndarray, lo_deg: float, hi_deg: float
) -> np.ndarray:
    """A unit vector at a random angle in ``[lo_deg, hi_deg]`` from unit vector ``u``."""
    perp = rng.normal(size=3)
    perp -= perp.dot(u) * u
    perp /= np.linalg.norm(perp)
    ang = np.deg2rad(rng.uniform(lo_deg, hi_deg))
    v = np.cos(ang) * u + np.sin(ang) * perp
    return v / np.linalg.norm(v)


def _slerp(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Row-wise slerp of unit vectors ``a``, ``b`` ``(n, 3)`` by fractions ``f`` ``(n,)``."""
    dot = np.clip(np.einsum("ij,ij->i", a, b), -1.0, 1.0)
    om = np.arccos(dot)
    so = np.sin(om)
    small = so < 1e-6
    so = np.where(small, 1.0, so)
    wa = np.where(small, 1.0 - f, np.sin((1.0 - f) * om) / so)
    wb = np.where(small, f, np.sin(f * om) / so)
    v = wa[:, None] * a + wb[:, None] * b
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@dataclass(frozen=True)
class Posture:
    """Gravity direction over a night: a posture chain plus slow wander.

    ``u0`` first posture (unit 3-vector); ``transitions`` sorted, non-overlapping;
    ``knots`` (k,) s and ``wander`` (k, 3): slow wander added to the direction and
    interpolated linearly between knots before renormalising.
    """

    u0: np.ndarray
    transitions: list[Transition]
    knots: np.ndarray
    wander: np.ndarray

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        u0: np.ndarray,
        transitions: list[Transition],
        total_s: float,
        wander: float = 0.04,
        knot_s: float = 60.0,
    ) -> Posture:
        """Draw the wander: std ``wander`` (radians, ~2.3 deg) at knots every ``knot_s`` s."""
        knots = np.arange(0.0, total_s + 2 * knot_s, knot_s)
        return cls(u0, list(transitions), knots, rng.normal(0.0, wander, (knots.size, 3)))

    def gravity(self, t: np.ndarray) -> np.ndarray:
        """Gravity ``(n, 3)`` in g at times ``t`` (s from night start, sorted); magnitude 1."""
        posture = np.vstack([self.u0] + [tr.to for tr in self.transitions])  # (K+1, 3)
        if self.transitions:
            s = np.array([tr.start for tr in self.transitions])
            e = np.array([tr.end for tr in self.transitions])
            k = np.searchsorted(s, t, side="right")  # transitions begun by t
            km1 = np.maximum(k - 1, 0)
            frac = np.where(k == 0, 1.0, np.clip((t - s[km1]) / (e[km1] - s[km1]), 0.0, 1.0))
            frac = frac * frac * (3.0 - 2.0 * frac)
            g = _slerp(posture[km1], posture[k], frac)
        else:
            g = np.repeat(posture[:1], t.size, axis=0)
        for ax in range(3):
            g[:, ax] += np.interp(t, self.knots, self.wander[:, ax])
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        return g


@dataclass(frozen=True)
class Breathing:
    """Breathing micro-motion: a 0.2–0.33 Hz rhythm with a slowly wandering rate.

    Fixed direction ``direction`` (unit 3-vector); amplitude ``amplitude_g``; a second
    harmonic makes it non-sinusoidal.
    """

    amplitude_g: float
    f0: float
    df: float
    period: float
    phase0: float
    direction: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, amplitude_g: float) -> Breathing:
        d = rng.normal(size=3)
        return cls(
            amplitude_g,
            f0=rng.uniform(0.22, 0.3),
            df=rng.uniform(0.0, 0.03),
            period=rng.uniform(300.0, 1200.0),
            phase0=rng.uniform(0, 2 * np.pi),
            direction=d / np.linalg.norm(d),
        )

    def at(self, t: np.ndarray) -> np.ndarray:
        """``(n, 3)`` breathing acceleration in g at times ``t`` (s)."""
        # analytic phase of f(t) = f0 + df sin(2 pi t / P)
        w = 2 * np.pi / self.period
        phase = 2 * np.pi * (self.f0 * t - self.df / w * np.cos(w * t)) + self.phase0
        wave = np.sin(phase) + 0.3 * np.sin(2 * phase + 1.0)
        return (self.amplitude_g / 1.3 * wave)[:, None] * self.direction[None, :]


#: Seconds after a beat's onset that its complex lasts (the second heart sound included).
BEAT_SPAN_S = 0.45


@dataclass(frozen=True)
class Heartbeat:
    """The heart's own motion on a chest-worn sensor (seismocardiogram): one complex a beat.

    ``beats`` (k,) s: beat onsets over the night, from a heart rate of 50–75 bpm that
    wanders slowly (±8 % over 5–20 min) with 2 % beat-to-beat variation and a 4 %
    respiratory sinus arrhythmia. Each complex: the valves' opening and closing, a
    Gabor wavelet of 15–30 Hz over ~80 ms, then the second heart sound (half its size,
    ~0.3 s later); peak ``amplitude_g`` x ``sizes`` (lognormal, 15 % spread), mostly
    along ``direction`` (front-to-back of the chest) with a quarter along ``direction2``.
    """

    amplitude_g: float
    beats: np.ndarray
    sizes: np.ndarray
    freq: float
    s2_delay: float
    direction: np.ndarray
    direction2: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, amplitude_g: float, total_s: float) -> Heartbeat:
        """Beats over ``total_s`` seconds (none when ``amplitude_g`` is 0)."""
        d, d2 = random_unit_vectors(rng, 1)[0], random_unit_vectors(rng, 1)[0]
        d2 -= d2.dot(d) * d
        d2 /= np.linalg.norm(d2)
        if amplitude_g <= 0:
            beats = np.empty(0)
        else:
            hr = rng.uniform(50.0, 75.0) / 60.0  # beats per second
            n = int(total_s * hr * 1.3) + 10
            wander_p = rng.uniform(300.0, 1200.0)
            rsa_f = rng.uniform(0.22, 0.3)
            rr = rng.normal(1.0, 0.02, n) / hr
            t = np.cumsum(rr)
            rr *= 1.0 + 0.08 * np.sin(2 * np.pi * t / wander_p + rng.uniform(0, 2 * np.pi))
            rr *= 1.0 + 0.04 * np.sin(2 * np.pi * rsa_f * t)
            beats = rng.uniform(0.0, 1.0 / hr) + np.cumsum(rr)
            beats = beats[beats < total_s]
        return cls(
            amplitude_g,
            beats=beats,
            sizes=np.exp(rng.normal(0.0, 0.15, beats.size)),
            freq=rng.uniform(15.0, 30.0),
            s2_delay=rng.uniform(0.28, 0.34),
            direction=d,
            direction2=d2,
        )

    def at(self, t: np.ndarray) -> np.ndarray:
        """``(n, 3)`` heart motion in g at times ``t`` (s, sorted)."""
        out = np.zeros((t.size, 3))
        if self.beats.size == 0 or t.size == 0:
            return out
        k = np.searchsorted(self.beats, t, side="right") - 1
        inside = k >= 0
        tau = np.where(inside, t - self.beats[np.maximum(k, 0)], BEAT_SPAN_S)
        inside &= tau < BEAT_SPAN_S
        tau, size = tau[inside], self.sizes[k[inside]]

        def wavelet(centre: float, width: float) -> np.ndarray:
            x = tau - centre
            return np.exp(-0.5 * (x / width) ** 2) * np.sin(2 * np.pi * self.freq * x + 0.5)

        wave = wavelet(0.04, 0.018) + 0.5 * wavelet(self.s2_delay, 0.015)
        wave *= self.amplitude_g * size
        out[inside] = wave[:, None] * (self.direction + 0.25 * self.direction2)[None, :]
        return out
