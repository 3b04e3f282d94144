"""Figures: the critic's value surface (WGAN-GP Fig. 1), the W-estimate curve (WGAN Fig. 3),
loss curves beside sample quality (WGAN Figs. 3, 4, 8), quality against iterations and
seconds (WGAN-GP Fig. 3) and the language model's n-gram divergences (WGAN-GP §5.5); and the
rank correlation of a smoothed curve with quality.

matplotlib with the non-interactive Agg backend, so plotting works on headless machines;
every figure is written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import keras
import numpy as np

from kwgan.io import atomic_path


def pyplot():
    """pyplot on the non-interactive Agg backend, imported on first use: kwgan trains
    without matplotlib (accelerator machines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def median_filter(values: Sequence[float], kernel: int = 101) -> np.ndarray:
    """The WGAN README's smoothing, `medfilt(x, 101)`, with the kernel cut to fit short runs."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n == 0:
        return values
    kernel = min(kernel, n if n % 2 else n - 1)
    # Imported here, not at the top: kwgan trains without SciPy (accelerator machines).
    from scipy.signal import medfilt

    return medfilt(values, kernel if kernel % 2 else kernel - 1)


def rank_correlation(
    iterations: Sequence[int],
    values: Sequence[float],
    at: Sequence[int],
    quality: Sequence[float],
) -> float | None:
    """Spearman's ρ between a per-iteration curve, median-filtered as the papers plot it,
    read at the iterations `at`, and the `quality` measured there: whether the curve tracks
    quality (WGAN §4.2). None with fewer than three points or a constant side."""
    smoothed = dict(zip(iterations, median_filter(values), strict=True))
    pairs = [(smoothed[i], q) for i, q in zip(at, quality, strict=True) if i in smoothed]
    if len(pairs) < 3 or any(len(set(side)) < 2 for side in zip(*pairs, strict=True)):
        return None
    from scipy.stats import spearmanr

    return float(spearmanr(*zip(*pairs, strict=True))[0])


def save_figure(fig, path: str) -> None:
    """Writes `fig` atomically and closes it, also when the path is refused: pyplot keeps
    every open figure alive, so a leaked one per failed call would pile up."""
    try:
        with atomic_path(path, suffix=os.path.splitext(path)[1]) as tmp:
            fig.savefig(tmp, dpi=100, bbox_inches="tight")
    finally:
        pyplot().close(fig)


def critic_surface(
    critic: keras.Model,
    real: np.ndarray,
    fake: np.ndarray,
    path: str,
    *,
    extent: float = 3.0,
    points: int = 128,
    title: str = "",
) -> None:
    """Contours of the critic over [−extent, extent]², real (orange) and generated (green)."""
    axis = np.linspace(-extent, extent, points, dtype=np.float32)
    xx, yy = np.meshgrid(axis, axis)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
    values = np.asarray(critic.predict(grid, batch_size=4096, verbose=0)).reshape(points, points)
    fig, ax = pyplot().subplots(figsize=(5, 5))
    ax.contour(xx, yy, values, levels=20, cmap="viridis")
    ax.scatter(real[:, 0], real[:, 1], marker="+", c="orange", s=12, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], marker="+", c="green", s=12, label="generated")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)


def w_estimate_curve(
    iterations: Sequence[int],
    w_estimate: Sequence[float],
    path: str,
    *,
    exact: tuple[Sequence[int], Sequence[float]] | None = None,
    title: str = "",
) -> None:
    """The critic's Wasserstein estimate over generator iterations, median-filtered.

    `exact`, if given, is `(iterations, W1 values)` of a real distance (exact optimal
    transport on the toy problems), drawn on a second axis for comparison.
    """
    fig, ax = pyplot().subplots(figsize=(6, 3.5))
    ax.plot(iterations, w_estimate, color="0.8", lw=0.5, label="critic estimate")
    ax.plot(iterations, median_filter(w_estimate), color="C0", label="median filter (101)")
    ax.set_xlabel("generator iterations")
    ax.set_ylabel("W estimate  E D(x) − E D(G(z))")
    handles, labels = ax.get_legend_handles_labels()
    if exact is not None:
        ax2 = ax.twinx()
        ax2.plot(*exact, "o-", color="C3", ms=3, label="exact W1 (2000 vs 2000)")
        ax2.set_ylabel("exact W1")
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="upper right", fontsize=8)
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)


class CurvePanel(NamedTuple):
    """One panel of `curves_beside_quality`: a per-iteration curve and the quality measured
    at some of those iterations."""

    title: str
    label: str
    iterations: Sequence[int]
    values: Sequence[float]
    quality_iterations: Sequence[int]
    quality: Sequence[float]


def curves_beside_quality(
    panels: Sequence[CurvePanel], path: str, *, quality_label: str, columns: int = 2
) -> None:
    """Each panel's curve (raw in grey, median filter 101 in colour) with the quality at the
    same generator iterations on a second axis: the WGAN paper's claim (Figs. 3, 4, 8) is
    that the critic's W estimate falls as quality rises while the GAN's JS estimate does not."""
    plt = pyplot()
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 3.2 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        ax.plot(panel.iterations, panel.values, color="0.8", lw=0.5)
        ax.plot(panel.iterations, median_filter(panel.values), color="C0", label=panel.label)
        ax.set_xlabel("generator iterations")
        ax.set_ylabel(panel.label, color="C0")
        ax2 = ax.twinx()
        ax2.plot(panel.quality_iterations, panel.quality, "o-", color="C3", ms=3)
        ax2.set_ylabel(quality_label, color="C3")
        ax.set_title(panel.title, fontsize=9)
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    fig.tight_layout()
    save_figure(fig, path)


def quality_over_time(
    runs: Mapping[str, tuple[Sequence[int], Sequence[float], Sequence[float]]],
    path: str,
    *,
    quality_label: str,
) -> None:
    """Quality against generator iterations (left) and training seconds (right), one line
    per run given as `(iterations, seconds, quality)`: WGAN-GP Fig. 3's two panels."""
    fig, (left, right) = pyplot().subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for name, (iterations, seconds, quality) in runs.items():
        left.plot(iterations, quality, "o-", ms=2, label=name)
        right.plot(seconds, quality, "o-", ms=2, label=name)
    left.set_xlabel("generator iterations")
    right.set_xlabel("wall-clock seconds (training)")
    left.set_ylabel(quality_label)
    left.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def ngram_divergence_curves(
    evaluations: Sequence[Mapping[str, float]],
    baseline: Mapping[str, float],
    path: str,
    *,
    title: str = "",
) -> None:
    """The n-gram JS divergences of generated text against generator iterations (WGAN-GP
    §5.5), one colour per n, each with real text's `baseline` dashed. `evaluations` hold an
    `iteration` and the keys of `baseline` (`js1` … `js4`, `kwgan.metrics.ngrams`); the y axis
    spans JS's whole range, 0 … 1 bit, so runs compare."""
    from kwgan.metrics.ngrams import BASELINE_LINES

    iterations = [e["iteration"] for e in evaluations]
    fig, ax = pyplot().subplots(figsize=(6, 3.5))
    for i, key in enumerate(baseline):
        color = f"C{i}"
        label = f"n = {key.removeprefix('js')}"
        ax.plot(iterations, [e[key] for e in evaluations], "o-", ms=3, color=color, label=label)
        ax.axhline(baseline[key], ls="--", lw=0.8, color=color)
    ax.set_xlabel("generator iterations")
    ax.set_ylabel("JS divergence to the corpus (bits)")
    ax.set_ylim(0.0, 1.0)
    ax.legend(
        title=f"n-grams\n(dashed: real\ntext, {BASELINE_LINES} lines)",
        fontsize=8,
        title_fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)
