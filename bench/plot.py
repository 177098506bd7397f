"""bench/ratios.png: every ratio ours/X of a run, as bars from 1 on a log scale.

Two panels, so that "ours ahead" is always on the same side of 1 within one: figures where lower
is better (sizes, start, memory, latency) on the left, where higher is better (throughput) on the
right. Needs matplotlib (the `bench` dependency group, which `make bench` installs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from bench.report import Ratio

COLOURS = {
    "Go": "#00add8",
    "Go, GOMAXPROCS=1": "#8fd8ea",
    "Python": "#f2c12e",
    "seed": "#b7410e",
}
"""One colour per other contender, in the order of the bars; any other is grey, after them."""
TICKS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]


def plot(ratios: Sequence[Ratio], path: Path, title: str) -> None:
    """Draw `ratios` into `path` (PNG)."""
    import matplotlib as mpl  # noqa: PLC0415 - only `make bench` installs it

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter  # noqa: PLC0415

    panels = [
        ("lower is better: below 1, ours ahead", [r for r in ratios if not r.higher_is_better]),
        ("higher is better: above 1, ours ahead", [r for r in ratios if r.higher_is_better]),
    ]
    panels = [(label, chosen) for label, chosen in panels if chosen]
    if not panels:
        return
    rows = max(len({r.metric for r in chosen}) for _, chosen in panels)
    figure, axes = plt.subplots(
        1, len(panels), figsize=(7 * len(panels), 1.0 + 0.45 * rows), squeeze=False
    )
    versus = sorted({r.versus for r in ratios}, key=lambda name: (name not in COLOURS, name))
    height = 0.8 / len(versus)
    for axis, (label, chosen) in zip(axes[0], panels, strict=True):
        metrics = list(dict.fromkeys(r.metric for r in chosen))
        for offset, other in enumerate(versus):
            points = [(metrics.index(r.metric), r.value) for r in chosen if r.versus == other]
            if not points:
                continue
            axis.barh(
                [row + offset * height for row, _ in points],
                [value - 1 for _, value in points],
                height=height,
                left=1,
                color=COLOURS.get(other, "#888888"),
                label=f"ours/{other}",
            )
            for row, value in points:
                axis.annotate(
                    f"{value:.3g}",
                    (value, row + offset * height),
                    xytext=(3 if value >= 1 else -3, 0),
                    textcoords="offset points",
                    ha="left" if value >= 1 else "right",
                    va="center",
                    fontsize=7,
                )
        values = [r.value for r in chosen]
        axis.set_xscale("log")
        axis.set_xlim(min(*values, 1.0) / 1.8, max(*values, 1.0) * 1.8)
        axis.xaxis.set_major_locator(FixedLocator(TICKS))
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.axvline(1.0, color="black", linewidth=0.8)
        axis.set_yticks([row + height * (len(versus) - 1) / 2 for row in range(len(metrics))])
        axis.set_yticklabels(metrics, fontsize=8)
        axis.invert_yaxis()
        axis.set_title(label, fontsize=10)
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
