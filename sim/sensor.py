"""The sensor and its link: sample clock, dropped packets, bias, noise, quantisation.

Sample clock: sample ``i`` is taken at ``i / fs + u_i`` seconds after the start,
``u_i`` uniform in ``±jitter_s`` (< half a period, so times stay increasing); the
reported timestamp is that true instant. Link: samples travel in packets of
``round(packet_s * fs)`` samples (at least 1); a loss starts at a packet with
probability ``drop_prob`` and takes a geometric number of packets (mean 2); link
outages (Poisson, ``outage_per_hour``) lose ``outage_s`` seconds at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import NightConfig
from sim.waveforms import span_index


@dataclass(frozen=True)
class SampleClock:
    """Sample instants and what survives the link.

    t : ``(n,)`` s from night start, all samples the sensor took (jittered).
    keep : ``(n,)`` bool, True where the sample reached the host.
    outages : ``(k, 2)`` link-outage spans, s from night start.
    """

    t: np.ndarray
    keep: np.ndarray
    outages: np.ndarray


def sample_clock(cfg: NightConfig, rng: np.random.Generator) -> SampleClock:
    """Jittered sample instants, the packet-drop mask and the outages of a night."""
    n = int(round(cfg.duration_s * cfg.fs))
    t = np.arange(n, dtype=np.float64) / cfg.fs
    if cfg.jitter_s > 0:
        t += rng.uniform(-cfg.jitter_s, cfg.jitter_s, n)
    t[0] = max(t[0], 0.0)
    ps = max(int(round(cfg.packet_s * cfg.fs)), 1)
    n_packets = -(-n // ps)
    lost = np.zeros(n_packets, dtype=bool)
    first = np.flatnonzero(rng.random(n_packets) < cfg.drop_prob)
    if first.size:
        length = rng.geometric(0.5, first.size)
        idx, _ = span_index(np.arange(n_packets, dtype=np.float64), first, first + length - 1)
        lost[idx] = True
    keep = ~np.repeat(lost, ps)[:n]
    k = int(rng.poisson(cfg.outage_per_hour * cfg.hours))
    a = rng.uniform(0.0, cfg.duration_s, k)
    outages = np.column_stack([a, np.minimum(a + rng.uniform(*cfg.outage_s, k), cfg.duration_s)])
    outages = outages[np.argsort(outages[:, 0])]
    for s, e in outages:
        i0, i1 = np.searchsorted(t, [s, e])
        keep[i0:i1] = False
    return SampleClock(t, keep, outages)


def lost_in_spans(clock: SampleClock, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """How many of the samples the sensor took in each span were lost on the link.

    ``start``, ``end`` : ``(m,)`` s from night start; a sample at instant ``t`` belongs
    to a span when ``start <= t <= end``. Returns ``(m,)`` int64 counts of such samples
    with ``keep`` False (dropped packets and outages).
    """
    lost = np.concatenate([[0], np.cumsum(~clock.keep, dtype=np.int64)])
    i0 = np.searchsorted(clock.t, np.asarray(start, dtype=np.float64), side="left")
    i1 = np.searchsorted(clock.t, np.asarray(end, dtype=np.float64), side="right")
    return (lost[i1] - lost[np.minimum(i0, i1)]).astype(np.int64)


def draw_bias(cfg: NightConfig, rng: np.random.Generator) -> np.ndarray:
    """The sensor's constant per-axis bias ``(3,)``, uniform in ``±bias_g``."""
    return rng.uniform(-cfg.bias_g, cfg.bias_g, 3)


def sensor_output(
    acc: np.ndarray, cfg: NightConfig, rng: np.random.Generator, bias: np.ndarray
) -> np.ndarray:
    """What the sensor reports for true acceleration ``acc`` ``(n, 3)`` in g (in place).

    Adds ``bias`` ``(3,)`` and white noise (``noise_g`` std per axis), then quantises to
    ``bits`` two's-complement codes over ``±range_g``, clipping to
    ``[-range_g, range_g - lsb]``.
    """
    acc += bias
    if cfg.noise_g > 0:
        acc += rng.normal(0.0, cfg.noise_g, acc.shape)
    lsb = quantisation_step(cfg)
    top = 2 ** (cfg.bits - 1)
    np.rint(acc / lsb, out=acc)
    np.clip(acc, -top, top - 1, out=acc)
    acc *= lsb
    return acc


def quantisation_step(cfg: NightConfig) -> float:
    """One least-significant bit, g: ``2 * range_g / 2**bits``."""
    return 2.0 * cfg.range_g / 2.0**cfg.bits
