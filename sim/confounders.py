"""Movements that are not jerks: walking, tremor, roll-overs, restless stretches.

:func:`plan_confounders` places spans (non-overlapping, at least
:data:`SEPARATION_S` apart) and draws every parameter, including the posture
transitions each one causes; :func:`render_confounder` adds the span's motion to an
acceleration array. Models (amplitudes in g):

walking   a posture change to upright (1.5–3 s), steps at 1.5–3 Hz with ±2 % timing
          jitter, each a sharp heel strike along the vertical (biphasic 50–90 ms pulse,
          ``0.3–1.0 g × (cadence / 1.8 Hz)²``, ±15 % step to step), arm swing at half
          the cadence (0.1–0.3 g), vertical bounce at the cadence (0.05–0.15 g), then a
          posture change to a new lying posture (1.5–3 s). ``peak_g`` = heel-strike size.
tremor    continuous 3–12 Hz oscillation, 0.02–0.2 g, slightly elliptical, ±2 % frequency
          wander, ±30 % amplitude modulation, 1 s ramps. ``peak_g`` = amplitude.
rollover  2–6 s: gravity turns 45–160° to a new posture (smoothstep slerp) with smooth
          body motion (0.3–1.5 Hz, 0.05–0.3 g, Hann envelope). ``peak_g`` = motion size.
restless  1–3 min of irregular fidgets (0.3–1 per second, each 0.5–3 s of a 0.5–3 Hz
          Hann-windowed movement, sizes lognormal around 0.05–0.3 g) and 1–3 posture
          shifts of 10–40°. ``peak_g`` = the typical fidget size.
nonwear   the sensor is taken off and left lying still (on a table): over the first and
          last ``NONWEAR_HANDLING_S`` seconds the worn signal blends into / out of a fixed
          orientation (an axis up or down, tilted 0–5°) with handling motion (0.5–2 Hz,
          0.1–0.4 g, Hann envelope); in between only gravity on a fixed orientation, no
          breathing, no posture wander — the sensor adds its bias, noise and
          quantisation as everywhere. The wearer's posture after it is new.
          ``peak_g`` = handling motion size. Never drawn at random unless
          ``nonwear_per_hour`` > 0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from sim.body import Transition, rotate_away
from sim.config import CONFOUNDER_KINDS, NONWEAR_KIND, NightConfig
from sim.waveforms import random_unit_vectors, shape, span_index

log = logging.getLogger(__name__)

#: Random confounder spans keep at least this far apart and from the night's edges, s.
SEPARATION_S = 10.0

DURATION_S = {
    "walking": (20.0, 90.0),
    "tremor": (10.0, 60.0),
    "rollover": (2.0, 6.0),
    "restless": (60.0, 180.0),
    "nonwear": (1800.0, 5400.0),
}

#: Seconds of handling (taking the sensor off / putting it on) at each end of non-wear.
NONWEAR_HANDLING_S = 3.0


@dataclass
class Confounder:
    """One confounder span: ``start``/``end`` s from night start; ``peak_g`` typical size, g."""

    kind: str
    start: float
    end: float
    peak_g: float
    detail: str
    transitions: list[Transition] = field(default_factory=list)
    params: dict = field(default_factory=dict)


def _place(
    rng: np.random.Generator,
    total_s: float,
    durations: list[tuple[str, float]],
    taken: list[tuple[float, float]],
) -> list[tuple[str, float, float]]:
    """Random non-overlapping spans for ``(kind, duration)``, longest first; skips misfits."""
    placed = []
    for kind, dur in sorted(durations, key=lambda kd: -kd[1]):
        lo, hi = SEPARATION_S, total_s - SEPARATION_S - dur
        if hi <= lo:
            log.info("night too short for a %.0f s %s bout; skipped", dur, kind)
            continue
        starts = rng.uniform(lo, hi, 200)
        occ = np.array(taken, dtype=np.float64).reshape(-1, 2)
        ok = np.ones(starts.size, dtype=bool)
        if occ.size:
            ok = ~(
                (starts[:, None] < occ[None, :, 1] + SEPARATION_S)
                & (starts[:, None] + dur > occ[None, :, 0] - SEPARATION_S)
            ).any(axis=1)
        if not ok.any():
            log.info("no room for a %.0f s %s bout; skipped", dur, kind)
            continue
        s = float(starts[np.argmax(ok)])
        taken.append((s, s + dur))
        placed.append((kind, s, s + dur))
    return placed


def plan_confounders(
    cfg: NightConfig, rng: np.random.Generator
) -> tuple[np.ndarray, list[Confounder]]:
    """The first posture (unit 3-vector) and the night's confounders, sorted by start."""
    u0 = u = random_unit_vectors(rng, 1)[0]
    spans = [(f.kind, f.offset_s, f.offset_s + f.duration_s) for f in cfg.forced_confounders]
    spans.sort(key=lambda s: s[1])
    for a, b in zip(spans, spans[1:], strict=False):
        if b[1] < a[2]:
            raise ValueError(f"forced confounders overlap: {a} and {b}")
    if cfg.confounders:
        per_hour = {
            "walking": cfg.walking_per_hour,
            "tremor": cfg.tremor_per_hour,
            "rollover": cfg.rollover_per_hour,
            "restless": cfg.restless_per_hour,
            "nonwear": cfg.nonwear_per_hour,
        }
        wanted = []
        for kind in CONFOUNDER_KINDS:
            if kind not in cfg.confounder_kinds:
                continue
            if kind == NONWEAR_KIND and per_hour[kind] <= 0:
                continue  # off by default; no draw, so other nights stay the same
            n = int(rng.poisson(per_hour[kind] * cfg.hours))
            wanted += [(kind, float(d)) for d in rng.uniform(*DURATION_S[kind], n)]
        spans += _place(rng, cfg.duration_s, wanted, [(s, e) for _, s, e in spans])
    spans.sort(key=lambda s: s[1])
    out = []
    for kind, s, e in spans:
        c, u = _BUILDERS[kind](rng, s, e, u)
        out.append(c)
    return u0, out


def _build_rollover(rng, s, e, u):
    new = rotate_away(rng, u, 45.0, 160.0)
    amp = rng.uniform(0.05, 0.3)
    ang = np.rad2deg(np.arccos(np.clip(u.dot(new), -1, 1)))
    motion = _motion_params(rng, 0.3, 1.5)
    c = Confounder(
        "rollover",
        s,
        e,
        amp,
        f"turn {ang:.0f} deg over {e - s:.1f} s",
        [Transition(s, e, new)],
        {"u_before": u, "amp": amp, "motion": motion},
    )
    return c, new


def _build_walking(rng, s, e, u):
    up = rotate_away(rng, np.array([1.0, 0.0, 0.0]), 0.0, 25.0)
    lie = rotate_away(rng, up, 60.0, 150.0)
    t_up, t_down = rng.uniform(1.5, 3.0, 2)
    f = rng.uniform(1.5, 3.0)
    hs = rng.uniform(0.3, 1.0) * (f / 1.8) ** 2
    first, last = s + t_up + rng.uniform(0.2, 0.6), e - t_down - 0.3
    n = max(int((last - first) * f) + 1, 1)
    steps = first + np.concatenate(([0.0], np.cumsum(rng.normal(1.0, 0.02, n - 1)))) / f
    steps = steps[steps <= last]
    strike_dir = up + 0.3 * random_unit_vectors(rng, 1)[0]
    strike_dir /= np.linalg.norm(strike_dir)
    h = rotate_away(rng, up, 90.0, 90.0)
    params = {
        "u_before": u,
        "f": f,
        "steps": steps,
        "strike_amp": hs * np.clip(rng.normal(1.0, 0.15, steps.size), 0.5, 1.5),
        "strike_ms": rng.uniform(50.0, 90.0),
        "strike_dir": strike_dir,
        "up": up,
        "swing_dir": h,
        "swing": rng.uniform(0.1, 0.3),
        "bounce": rng.uniform(0.05, 0.15),
        "phase": rng.uniform(0, 2 * np.pi, 2),
        "t_up": t_up,
        "t_down": t_down,
        "motion_amp": rng.uniform(0.05, 0.2),
        "motion": _motion_params(rng, 0.3, 1.5),
    }
    tr = [Transition(s, s + t_up, up), Transition(e - t_down, e, lie)]
    detail = f"step {f:.2f} Hz, heel strike {hs:.2f} g, {steps.size} steps"
    return Confounder("walking", s, e, hs, detail, tr, params), lie


def _build_tremor(rng, s, e, u):
    f = rng.uniform(3.0, 12.0)
    amp = rng.uniform(0.02, 0.2)
    d = random_unit_vectors(rng, 1)[0]
    params = {
        "u_before": u,
        "f": f,
        "amp": amp,
        "dir": d,
        "dir2": rotate_away(rng, d, 90.0, 90.0),
        "ratio": rng.uniform(0.1, 0.4),
        "wander_period": rng.uniform(3.0, 15.0),
        "am_period": rng.uniform(2.0, 8.0),
        "phase": rng.uniform(0, 2 * np.pi, 3),
    }
    return Confounder("tremor", s, e, amp, f"tremor {f:.1f} Hz", [], params), u


def _build_restless(rng, s, e, u):
    amp = rng.uniform(0.05, 0.3)
    dur = e - s
    n = int(rng.poisson(rng.uniform(0.3, 1.0) * dur))
    fd = rng.uniform(0.5, 3.0, n)
    fstart = s + rng.uniform(0, 1, n) * (dur - fd)
    params = {
        "u_before": u,
        "start": fstart,
        "dur": fd,
        "freq": np.maximum(rng.uniform(0.5, 3.0, n), 0.5 / fd),
        "amp": np.clip(amp * rng.lognormal(0.0, 0.5, n), 0.0, 3 * amp),
        "dir": random_unit_vectors(rng, n),
        "phase": rng.uniform(0, 2 * np.pi, n),
    }
    k = int(rng.integers(1, 4))
    seg = dur / k
    tr = []
    for i in range(k):
        d = rng.uniform(1.0, 2.5)
        a = s + i * seg + rng.uniform(0, max(seg - d, 0.0))
        u = rotate_away(rng, u, 10.0, 40.0)
        tr.append(Transition(a, min(a + d, e), u))
    detail = f"{n} movements, {k} posture shifts"
    return Confounder("restless", s, e, amp, detail, tr, params), u


def _build_nonwear(rng, s, e, u):
    axis = np.zeros(3)
    axis[int(rng.integers(0, 3))] = rng.choice([-1.0, 1.0])
    table = rotate_away(rng, axis, 0.0, 5.0)
    h = min(NONWEAR_HANDLING_S, (e - s) / 2.0)
    amp = rng.uniform(0.1, 0.4)
    after = random_unit_vectors(rng, 1)[0]
    params = {
        "u_before": u,
        "table": table,
        "handling_s": h,
        "amp": amp,
        "motion_on": _motion_params(rng, 0.5, 2.0),
        "motion_off": _motion_params(rng, 0.5, 2.0),
    }
    tilt = np.rad2deg(np.arccos(np.clip(abs(table.dot(axis)), -1, 1)))
    detail = f"lying still, axis {'xyz'[int(np.argmax(np.abs(axis)))]} tilted {tilt:.1f} deg"
    tr = [Transition(e - h, e - h / 2.0, after)]
    return Confounder(NONWEAR_KIND, s, e, amp, detail, tr, params), after


_BUILDERS = {
    "walking": _build_walking,
    "tremor": _build_tremor,
    "rollover": _build_rollover,
    "restless": _build_restless,
    "nonwear": _build_nonwear,
}


def _motion_params(rng: np.random.Generator, f_lo: float, f_hi: float, n: int = 3) -> dict:
    return {
        "f": rng.uniform(f_lo, f_hi, n),
        "dir": random_unit_vectors(rng, n),
        "phase": rng.uniform(0, 2 * np.pi, n),
    }


def _smooth_motion(tau: np.ndarray, dur: float, amp: float, mp: dict) -> np.ndarray:
    """``(m, 3)`` smooth body motion of typical size ``amp`` under a Hann window of ``dur``."""
    env = 0.5 * (1.0 - np.cos(2 * np.pi * np.clip(tau / dur, 0.0, 1.0)))
    out = np.zeros((tau.size, 3))
    for f, d, ph in zip(mp["f"], mp["dir"], mp["phase"], strict=True):
        out += np.sin(2 * np.pi * f * tau + ph)[:, None] * d[None, :]
    return out * (amp / 1.5 * env)[:, None]


def _ramp(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def render_confounder(c: Confounder, t: np.ndarray, out: np.ndarray) -> None:
    """Add the motion of ``c`` (g, on top of gravity) to ``out`` ``(n, 3)`` at times ``t`` (s)."""
    i0, i1 = np.searchsorted(t, [c.start, c.end], side="left")
    if i1 <= i0:
        return
    tt = t[i0:i1]
    tau = tt - c.start
    seg = out[i0:i1]
    p = c.params
    if c.kind == "rollover":
        seg += _smooth_motion(tau, c.end - c.start, p["amp"], p["motion"])
    elif c.kind == "tremor":
        dur = c.end - c.start
        # analytic phase of f(tau) = f0 (1 + 0.02 sin(2 pi tau / P + phi)): +-2 % wander
        per = p["wander_period"]
        wander = 0.02 * per / (2 * np.pi) * np.cos(2 * np.pi * tau / per + p["phase"][0])
        ph = 2 * np.pi * p["f"] * (tau - wander) + p["phase"][1]
        am = 1.0 + 0.3 * np.sin(2 * np.pi * tau / p["am_period"] + p["phase"][2])
        env = _ramp(tau / 1.0) * _ramp((dur - tau) / 1.0) * am * p["amp"]
        seg += (env * np.sin(ph))[:, None] * p["dir"][None, :]
        seg += (env * p["ratio"] * np.cos(ph))[:, None] * p["dir2"][None, :]
    elif c.kind == "walking":
        for a, d in ((c.start, p["t_up"]), (c.end - p["t_down"], p["t_down"])):
            j0, j1 = np.searchsorted(tt, [a, a + d])
            seg[j0:j1] += _smooth_motion(tt[j0:j1] - a, d, p["motion_amp"], p["motion"])
        if p["steps"].size:
            _render_steps(p, tt, seg)
    elif c.kind == "restless":
        idx, j = span_index(tt, p["start"], p["start"] + p["dur"])
        x = np.clip((tt[idx] - p["start"][j]) / p["dur"][j], 0.0, 1.0)
        w = (
            0.5
            * (1 - np.cos(2 * np.pi * x))
            * np.sin(2 * np.pi * p["freq"][j] * (tt[idx] - p["start"][j]) + p["phase"][j])
        )
        np.add.at(seg, idx, (w * p["amp"][j])[:, None] * p["dir"][j])
    elif c.kind == NONWEAR_KIND:
        _render_nonwear(p, tau, c.end - c.start, seg)
    else:  # pragma: no cover - guarded by config validation
        raise ValueError(f"unknown confounder kind {c.kind!r}")


def _render_steps(p: dict, tt: np.ndarray, seg: np.ndarray) -> None:
    """Heel strikes, arm swing and vertical bounce of a walking bout, added to ``seg``."""
    first, last = p["steps"][0], p["steps"][-1]
    env = _ramp((tt - first + 0.5) / 1.0) * _ramp((last + 0.5 - tt) / 1.0)
    swing = p["swing"] * np.sin(np.pi * p["f"] * (tt - first) + p["phase"][0])
    bounce = p["bounce"] * np.sin(2 * np.pi * p["f"] * (tt - first) + p["phase"][1])
    seg += (env * swing)[:, None] * p["swing_dir"][None, :]
    seg += (env * bounce)[:, None] * p["up"][None, :]
    dur = p["strike_ms"] / 1000.0
    idx, j = span_index(tt, p["steps"], p["steps"] + dur)
    x = np.clip((tt[idx] - p["steps"][j]) / dur, 0.0, 1.0)
    m = idx.size
    w = shape(np.full(m, 2), x, np.full(m, dur), np.full(m, 0.4), np.full(m, 0.5))
    np.add.at(seg, idx, (w * p["strike_amp"][j])[:, None] * p["strike_dir"][None, :])


def _render_nonwear(p: dict, tau: np.ndarray, dur: float, seg: np.ndarray) -> None:
    """Replace the worn signal in ``seg`` by a sensor lying still (blended at the ends)."""
    h = p["handling_s"]
    still = _ramp(tau / h) * _ramp((dur - tau) / h)  # 0 at the ends, 1 inside
    seg *= (1.0 - still)[:, None]
    seg += still[:, None] * p["table"][None, :]
    off = tau < h
    seg[off] += _smooth_motion(tau[off], h, p["amp"], p["motion_off"])
    on = tau > dur - h
    seg[on] += _smooth_motion(tau[on] - (dur - h), h, p["amp"], p["motion_on"])
