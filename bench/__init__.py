"""Benchmarks of jerkcount: accuracy on simulated nights, real SisFall recordings, speed.

Run ``python -m bench [--quick] [--only PART] [--out bench/out]``, PART one of accuracy,
sisfall, noise, chest, speed, batch.
Every part prints markdown tables and writes them to ``OUT/<part>.md``. These are
benchmarks, not tests: they report numbers and pass/fail against the targets of
issue 2 section 6, and never fail the test suite.
"""

from pathlib import Path

#: The repository root (the folder holding ``bench/``, ``pipeline/``, ``tests/``).
REPO_ROOT = Path(__file__).resolve().parents[1]
#: The SisFall subset committed with the tests.
SISFALL_ROOT = REPO_ROOT / "tests" / "data" / "sisfall"
#: Default output folder (gitignored).
DEFAULT_OUT = REPO_ROOT / "bench" / "out"
