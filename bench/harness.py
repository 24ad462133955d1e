"""Shared measuring and reporting for the benchmarks.

Every figure is reported beside its floor (the same work done the cheapest honest way,
measured in the same run) as a ratio, with median and spread, because the machine is
shared and noisy. A benchmark module exposes ``KEYS`` (the metric names it reports in
``python -m bench --json``) and ``def run(quick: bool) -> Section``; a metric it cannot
measure is ``None`` with a reason in ``Section.reasons``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """One measured quantity and its floor. ``samples`` are per-operation values."""

    name: str
    unit: str
    samples: Sequence[float]
    floor_name: str = ""
    floor_samples: Sequence[float] = ()
    higher_is_better: bool = False
    target: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def pct(self, p: float) -> float:
        return percentile(self.samples, p)

    @property
    def floor_median(self) -> float | None:
        return statistics.median(self.floor_samples) if self.floor_samples else None

    @property
    def ratio(self) -> float | None:
        floor = self.floor_median
        if not floor:
            return None
        return floor / self.median if self.higher_is_better else self.median / floor


@dataclass
class Section:
    title: str
    notes: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    metrics: dict[str, float | None] = field(default_factory=dict)
    """The ``--json`` keys this section measured (``None``: see ``reasons``)."""
    reasons: dict[str, str] = field(default_factory=dict)

    def put(self, key: str, value: float | None, reason: str = "") -> None:
        """Record a metric; a missing or non-finite value needs a reason."""
        if value is None or not math.isfinite(value):
            self.metrics[key] = None
            self.reasons[key] = reason or "not measured"
        else:
            self.metrics[key] = round(float(value), 4)

    def skip(self, keys: Sequence[str], reason: str) -> None:
        for key in keys:
            self.put(key, None, reason)

    def markdown(self) -> str:
        out = [f"## {self.title}", ""]
        out += [*self.notes, ""] if self.notes else []
        if self.figures:
            out.append(
                "| figure | median | p10 | p90 | p99 | n | floor | floor median | ratio | target |"
            )
            out.append("|---|---|---|---|---|---|---|---|---|---|")
            for f in self.figures:
                ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
                floor = f"{fmt(f.floor_median)} {f.unit}" if f.floor_median is not None else "-"
                out.append(
                    f"| {f.name} | {fmt(f.median)} {f.unit} | {fmt(f.pct(10))} "
                    f"| {fmt(f.pct(90))} | {fmt(f.pct(99))} | {len(f.samples)} "
                    f"| {f.floor_name or '-'} | {floor} | {ratio} | {f.target or '-'} |"
                )
            out.append("")
        if self.reasons:
            out += [f"- `{k}`: not measured: {why}" for k, why in self.reasons.items()]
            out.append("")
        return "\n".join(out)


def percentile(samples: Sequence[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"
