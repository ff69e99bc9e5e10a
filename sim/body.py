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


def gravity(
    t: np.ndarray,
    u0: np.ndarray,
    transitions: list[Transition],
    rng: np.random.Generator,
    total_s: float,
    wander: float = 0.04,
    wander_knot_s: float = 60.0,
) -> np.ndarray:
    """Gravity ``(n, 3)`` in g at times ``t`` (s, sorted), magnitude exactly 1.

    ``u0`` the first posture; ``transitions`` sorted, non-overlapping. ``wander`` is the
    std (in units of g, i.e. radians) of the slow posture wander, interpolated linearly
    between random knots every ``wander_knot_s`` seconds.
    """
    k_tr = len(transitions)
    posture = np.vstack([u0] + [tr.to for tr in transitions])  # (K+1, 3)
    if k_tr:
        s = np.array([tr.start for tr in transitions])
        e = np.array([tr.end for tr in transitions])
        k = np.searchsorted(s, t, side="right")  # transitions begun by t
        km1 = np.maximum(k - 1, 0)
        frac = np.where(k == 0, 1.0, np.clip((t - s[km1]) / (e[km1] - s[km1]), 0.0, 1.0))
        frac = frac * frac * (3.0 - 2.0 * frac)
        g = _slerp(posture[km1], posture[k], frac)
    else:
        g = np.repeat(posture[:1], t.size, axis=0)
    knots = np.arange(0.0, total_s + 2 * wander_knot_s, wander_knot_s)
    vals = rng.normal(0.0, wander, (knots.size, 3))
    for ax in range(3):
        g[:, ax] += np.interp(t, knots, vals[:, ax])
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    return g


def breathing(t: np.ndarray, rng: np.random.Generator, amplitude_g: float) -> np.ndarray:
    """Breathing micro-motion ``(n, 3)`` in g: a 0.2–0.33 Hz rhythm with a slowly wandering rate.

    Direction fixed for the night; a second harmonic makes it non-sinusoidal.
    """
    if amplitude_g == 0:
        return np.zeros((t.size, 3))
    f0 = rng.uniform(0.22, 0.3)
    df = rng.uniform(0.0, 0.03)
    period = rng.uniform(300.0, 1200.0)
    phase0 = rng.uniform(0, 2 * np.pi)
    # analytic phase of f(t) = f0 + df sin(2 pi t / P)
    phase = 2 * np.pi * (f0 * t - df * period / (2 * np.pi) * np.cos(2 * np.pi * t / period))
    phase += phase0
    wave = np.sin(phase) + 0.3 * np.sin(2 * phase + 1.0)
    d = rng.normal(size=3)
    d /= np.linalg.norm(d)
    return (amplitude_g / 1.3 * wave)[:, None] * d[None, :]
