"""Night simulator with ground truth: wrist accelerometer data with jerks and confounders.

>>> night = simulate_night(NightConfig(hours=0.1, seed=1))
>>> night.acc.shape[1]
3
"""

from sim.config import CONFOUNDER_KINDS, FAMILIES, PATTERNS, ForcedConfounder, NightConfig
from sim.night import (
    TRUTH_COLUMNS,
    SimulatedNight,
    read_truth_csv,
    simulate_night,
    write_night,
    write_truth_csv,
)

__all__ = [
    "CONFOUNDER_KINDS",
    "FAMILIES",
    "PATTERNS",
    "TRUTH_COLUMNS",
    "ForcedConfounder",
    "NightConfig",
    "SimulatedNight",
    "read_truth_csv",
    "simulate_night",
    "write_night",
    "write_truth_csv",
]
