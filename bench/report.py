"""Markdown tables and small formatting helpers shared by the benchmark parts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Table:
    """A markdown table with a title and a caption (notes printed under it)."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""

    def add(self, cells: Sequence[object]) -> None:
        """Append a row; every cell is formatted with :func:`cell`."""
        if len(cells) != len(self.columns):
            raise ValueError(f"row has {len(cells)} cells, table {len(self.columns)} columns")
        self.rows.append([cell(c) for c in cells])

    def markdown(self) -> str:
        """The table as GitHub-flavoured markdown, title first, caption last."""
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join(" --- " for _ in self.columns) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        if self.caption:
            lines += ["", self.caption]
        return "\n".join(lines) + "\n"


def cell(value: object) -> str:
    """Format one table cell: floats with 3 decimals, NaN as an en dash."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def fmt(value: float, digits: int = 1) -> str:
    """A float with ``digits`` decimals, NaN as an en dash."""
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def verdict(ok: bool) -> str:
    """``"pass"`` or ``"FAIL"``."""
    return "pass" if ok else "FAIL"
