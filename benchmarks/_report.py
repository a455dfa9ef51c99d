"""Collecting benchmark values over rounds, and reporting them as Markdown tables and JSON.

A suite reports each measurement as ``results.add(metric, framework, value)`` or, when the
benchmark could not run, ``results.fail(metric, framework, "why")``: a failing benchmark becomes
"n/a (error: ...)" in its table cell and never stops the run.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Metric:
    """One figure: ``suite`` / ``name`` in ``unit``; ``higher`` says which way is better."""

    suite: str
    name: str
    unit: str
    higher: bool = True


@dataclass
class Cell:
    """The values (one per round) or errors of one metric for one framework."""

    values: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None


class Results:
    """Everything measured in one run, in first-reported order."""

    def __init__(self) -> None:
        self.metrics: dict[tuple[str, str], Metric] = {}
        self.cells: dict[tuple[str, str], dict[str, Cell]] = {}
        self.frameworks: list[str] = []

    def _cell(self, metric: Metric, framework: str) -> Cell:
        key = (metric.suite, metric.name)
        self.metrics.setdefault(key, metric)
        if framework not in self.frameworks:
            self.frameworks.append(framework)
        return self.cells.setdefault(key, {}).setdefault(framework, Cell())

    def add(self, metric: Metric, framework: str, value: float) -> None:
        self._cell(metric, framework).values.append(float(value))

    def fail(self, metric: Metric, framework: str, error: str) -> None:
        self._cell(metric, framework).errors.append(error)
        print(f"  {framework:8} {metric.name}: n/a (error: {error})", file=sys.stderr, flush=True)

    # -- reporting -------------------------------------------------------------------------

    def markdown(self) -> str:
        """One table per suite: median (min-max) per framework and the aiohyper/aiohttp ratio."""
        out: list[str] = []
        extra = [fw for fw in self.frameworks if fw not in ("aiohyper", "aiohttp")]
        suites = list(dict.fromkeys(m.suite for m in self.metrics.values()))
        for suite in suites:
            out.append(f"### {suite}\n")
            head = ["benchmark", "unit", "aiohyper", "aiohttp", "ratio", *extra]
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|")
            for key, metric in self.metrics.items():
                if metric.suite != suite:
                    continue
                cells = self.cells.get(key, {})
                row = [
                    metric.name,
                    metric.unit + (" ↑" if metric.higher else " ↓"),
                    _fmt_cell(cells.get("aiohyper")),
                    _fmt_cell(cells.get("aiohttp")),
                    _fmt_ratio(cells.get("aiohyper"), cells.get("aiohttp")),
                    *(_fmt_cell(cells.get(fw)) for fw in extra),
                ]
                out.append("| " + " | ".join(row) + " |")
            out.append("")
        out.append(
            "Values: median (min–max) over rounds. ↑ higher is better, ↓ lower is better. "  # noqa: RUF001
            "ratio = aiohyper / aiohttp (medians)."
        )
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        items = []
        for key, metric in self.metrics.items():
            per_fw = {}
            for fw, cell in self.cells.get(key, {}).items():
                per_fw[fw] = {
                    "values": cell.values,
                    "median": cell.median,
                    "min": min(cell.values) if cell.values else None,
                    "max": max(cell.values) if cell.values else None,
                    "errors": cell.errors,
                }
            items.append(
                {
                    "suite": metric.suite,
                    "name": metric.name,
                    "unit": metric.unit,
                    "higher_is_better": metric.higher,
                    "results": per_fw,
                }
            )
        return {"metrics": items}

    def save(self, directory: Path, suites: list[str], meta: dict[str, Any]) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = directory / f"{stamp}-{'-'.join(suites)}.json"
        path.write_text(json.dumps({"meta": meta, **self.to_json()}, indent=1) + "\n")
        return path


def _num(v: float) -> str:
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def _fmt_cell(cell: Cell | None) -> str:
    if cell is None:
        return "—"
    if not cell.values:
        err = cell.errors[0] if cell.errors else "no value"
        return f"n/a (error: {_escape(err)})"
    med = cell.median
    assert med is not None
    text = _num(med)
    if len(cell.values) > 1:
        text += f" ({_num(min(cell.values))}–{_num(max(cell.values))})"  # noqa: RUF001
    if cell.errors:
        text += f" [{len(cell.errors)} failed]"
    return text


def _fmt_ratio(ours: Cell | None, theirs: Cell | None) -> str:
    if ours is None or theirs is None or ours.median is None or theirs.median is None:
        return "—"
    if theirs.median == 0:
        return "—"
    return f"{ours.median / theirs.median:.2f}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
