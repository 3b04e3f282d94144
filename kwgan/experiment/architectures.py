"""The WGAN-GP paper's robustness tables (§5.1, Tables 2 and 5): random architectures from
Table 1, each trained under the GAN objective and under WGAN-GP.

For each of `num_architectures` descriptions drawn by `kwgan.architectures.sampler` (the
space of Table 1: nonlinearity, depth, BN and base filters of G and D), and for the DCGAN
of the space (Table 5's "reference DCGAN"), both objectives train for the same `steps`
generator iterations with Appendix B's optimizers: GAN Adam(2e-4, β = (0.5, 0.999)), WGAN-GP
Adam(1e-4, β = (0, 0.9)), λ = 10 and 5 critic iterations; when D normalises (batch norm for
the GAN, layer norm for WGAN-GP) its optimizer adds weight decay 1e-3 "for both
algorithms" (Keras's decoupled form). The paper scores by Inception Score on 32×32 ImageNet
after 100K iterations; kwgan scores the digits with their classifier score (the Inception
Score protocol with a digits classifier, `kwgan.metrics.digits.classifier_score`, 1 … 10,
held-out real digits ≈ 9.4). A run that diverges (a NaN loss) fails at every threshold.

Each (architecture, objective) pair is its own resumable run directory; the table's
directory holds the whole table's record. `experiments/architectures.py` is this module's
command line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time

import keras
import numpy as np

import kwgan
from kwgan.experiment import images
from kwgan.experiment.config import (
    Config,
    checkpoint_option,
    option,
    out_option,
    seed_option,
    time_limit_option,
)
from kwgan.io import atomic_path, write_json

OBJECTIVES = ("dcgan", "wgan-gp")
WEIGHT_DECAY = 1e-3  # Appendix B, when D uses batch or layer norm
THRESHOLDS = tuple(1.0 + 0.5 * i for i in range(17))  # Table 5's minimum scores, 1.0 … 9.0
RESULT_FILE = "result.json"
# table.json's record of the settings.
TABLE_FIELDS = (
    "num_architectures",
    "seed",
    "steps",
    "batch_size",
    "dataset",
    "image_size",
    "width_divisor",
    "score_samples",
)


@dataclasses.dataclass(frozen=True)
class ArchitecturesConfig(Config):
    """Tables 2 and 5's harness at Appendix B's settings. The free fields also include how
    many architectures and whether the reference trains: a rerun with more architectures
    extends the table, and `steps` may grow (every run then continues)."""

    num_architectures: int = option(
        200, "Architectures sampled from Table 1.", free=True, minimum=1
    )
    seed: int = seed_option("Seed of the sampled architectures, their weights and the data.")
    steps: int = option(100_000, "Generator iterations of every run (Appendix B: 100K).", minimum=1)
    batch_size: int = option(64, "Batch size.", minimum=1)
    dataset: str = option(
        "digits",
        "Training images: the digits, which a classifier scores (kwgan has no Inception Score).",
        choices=("digits",),
    )
    image_size: int = option(32, "Image size (Appendix B: 32×32).", minimum=1)
    width_divisor: int = option(
        1, "Divide every base filter count by this (CPU-sized runs).", minimum=1
    )
    latent_dim: int = option(128, "Noise size.", minimum=1)
    reference: bool = option(True, "Also train the space's DCGAN under both objectives.", free=True)
    score_samples: int = option(1000, "Samples scored per run (10 splits).", minimum=10)
    checkpoint_every: int = checkpoint_option(500)
    max_minutes: float | None = time_limit_option()
    out: str = out_option("runs/architectures")

    def data(self) -> images.ImageConfig:
        """The training images' settings as an image run's, for `images.dataset`."""
        return images.ImageConfig(
            dataset=self.dataset,
            image_size=self.image_size,
            channels=1,
            batch_size=self.batch_size,
            seed=self.seed,
        )


class OutOfTime(Exception):
    """`max_minutes` ran out before every run finished."""


def runs(config: ArchitecturesConfig) -> list[tuple[str, dict]]:
    """(name, description) of every architecture this invocation trains, reference first."""
    from kwgan.architectures import sampler

    named = [("reference", sampler.REFERENCE)] if config.reference else []
    return named + [
        (f"arch{i:03d}", sampler.sample(config.seed, i)) for i in range(config.num_architectures)
    ]


def build_gan(config: ArchitecturesConfig, description: dict, objective_name: str) -> kwgan.GAN:
    """The compiled GAN of one (architecture, objective) pair with Appendix B's optimizers."""
    from kwgan.architectures import sampler

    keras.utils.set_random_seed(config.seed)
    generator, critic = sampler.build(
        description,
        objective=objective_name,
        image_size=config.image_size,
        channels=1,
        latent_dim=config.latent_dim,
        width_divisor=config.width_divisor,
    )
    gan = kwgan.GAN(generator, critic, seed=config.seed)
    g_opt, d_opt = kwgan.objectives.get(objective_name).optimizers()
    if description["critic"]["batch_norm"]:
        d_opt = d_opt.from_config({**d_opt.get_config(), "weight_decay": WEIGHT_DECAY})
    gan.compile(objective_name, generator_optimizer=g_opt, critic_optimizer=d_opt)
    return gan


def score(config: ArchitecturesConfig, gan: kwgan.GAN, directory: str) -> dict:
    """Classifier score and Fréchet distance of `score_samples` samples; writes samples.png."""
    noise = np.random.default_rng(config.seed + 2).normal(
        size=(config.score_samples, gan.latent_dim)
    )
    samples = gan.generate(noise, batch_size=250)
    kwgan.grid.save_grid(samples[:64], os.path.join(directory, "samples.png"), scale=2)
    mean, std = kwgan.metrics.classifier_score(samples)
    fd = kwgan.metrics.frechet_distance(samples, kwgan.metrics.real_digits("heldout"))
    return {"score": mean, "score_std": std, "fd": fd}


def train_one(
    config: ArchitecturesConfig,
    name: str,
    description: dict,
    objective: str,
    deadline: float | None,
) -> dict:
    """Trains and scores one pair in its own resumable directory; returns its result.

    Raises `OutOfTime` (after checkpointing) when the deadline passes first.
    """
    directory = os.path.join(config.out, f"{name}_{objective}")
    record = {**config.result_fields(), "architecture": description, "objective": objective}
    with kwgan.run.Run(directory, record) as run:
        result_path = os.path.join(directory, RESULT_FILE)
        if run.already_complete():
            with open(result_path) as f:
                return json.load(f)
        if deadline is not None and time.monotonic() > deadline:
            raise OutOfTime
        write_json(os.path.join(directory, "architecture.json"), description)
        keras.backend.clear_session(free_memory=True)
        gan = build_gan(config, description, objective)
        stopwatch = kwgan.callbacks.Stopwatch()
        limit = [] if deadline is None else [kwgan.callbacks.TimeLimit(deadline - time.monotonic())]
        try:
            kwgan.run.train(
                run,
                gan,
                lambda start: images.dataset(config.data(), start),
                callbacks=[stopwatch, *limit],
                stateful={"stopwatch": stopwatch},
                checkpoint_every=config.checkpoint_every,
                progress=False,
            )
        except kwgan.errors.NonFiniteLossError as error:
            result = {"score": None, "diverged": str(error)}
        else:
            if kwgan.checkpoint.generator_iterations(gan) < config.steps:
                raise OutOfTime
            result = score(config, gan, directory)
        result.update(
            name=name,
            objective=objective,
            architecture=description,
            generator_iterations=kwgan.checkpoint.generator_iterations(gan),
            seconds=stopwatch.seconds,
            steady_seconds_per_generator_iteration=stopwatch.steady_seconds_per_generator_iteration,
            parameters={
                "generator": gan.generator.count_params(),
                "critic": gan.critic.count_params(),
            },
        )
        write_json(result_path, result)
        run.complete(config.steps)
        print(json.dumps({k: result[k] for k in ("name", "objective", "score", "seconds")}))
        return result


def succeeded(result: dict, threshold: float) -> bool:
    """Table 5's success: a score above the minimum (a diverged run has none)."""
    return result["score"] is not None and result["score"] > threshold


def outcomes(results: dict[str, dict[str, dict]], thresholds=THRESHOLDS) -> list[dict]:
    """Table 5's rows from `results[name][objective]`, one per minimum score."""
    rows = []
    for threshold in thresholds:
        row = {
            "min_score": threshold,
            "only_gan": 0,
            "only_wgan_gp": 0,
            "both": 0,
            "both_failed": 0,
        }
        for by_objective in results.values():
            gan, wgan = (succeeded(by_objective[o], threshold) for o in OBJECTIVES)
            key = {(True, True): "both", (True, False): "only_gan", (False, True): "only_wgan_gp"}
            row[key.get((gan, wgan), "both_failed")] += 1
        rows.append(row)
    return rows


def write_table(
    config: ArchitecturesConfig, results: dict[str, dict[str, dict]], reference: dict | None
) -> dict:
    """Writes table.json, table.md and success.png; returns table.json's content."""
    rows = outcomes(results)
    real, _ = kwgan.metrics.classifier_score(kwgan.metrics.real_digits("heldout"))
    summary = {
        "config": {k: getattr(config, k) for k in TABLE_FIELDS},
        "rows": rows,
        "reference": reference,
        "real_heldout_score": real,
        "architectures": results,
    }
    write_json(os.path.join(config.out, "table.json"), summary)
    lines = [
        f"{len(results)} architectures, {config.steps} generator iterations each, "
        f"{config.dataset} at {config.image_size}×{config.image_size}, base filters ÷ "
        f"{config.width_divisor}; classifier score of held-out real digits {real:.2f}.",
        "",
    ]
    if reference:
        lines += [
            "Reference DCGAN: "
            + ", ".join(f"{o} {_fmt(reference[o]['score'])}" for o in OBJECTIVES),
            "",
        ]
    lines += [
        "| min score | only GAN | only WGAN-GP | both | both failed |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['min_score']:.1f} | {r['only_gan']} | {r['only_wgan_gp']} | {r['both']} | "
        f"{r['both_failed']} |"
        for r in rows
    ]
    with atomic_path(os.path.join(config.out, "table.md"), suffix=".md") as tmp:
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
    plot_successes(rows, len(results), os.path.join(config.out, "success.png"))
    print("\n".join(lines))
    return summary


def _fmt(value: float | None) -> str:
    return "diverged" if value is None else f"{value:.2f}"


def plot_successes(rows: list[dict], total: int, path: str) -> None:
    """Architectures scoring above each minimum score, per objective (Table 5 as curves)."""
    from kwgan.plots import pyplot, save_figure

    plt = pyplot()

    thresholds = [r["min_score"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(thresholds, [r["only_gan"] + r["both"] for r in rows], "o-", label="GAN (dcgan)")
    ax.plot(thresholds, [r["only_wgan_gp"] + r["both"] for r in rows], "o-", label="WGAN-GP")
    ax.set_xlabel("minimum classifier score")
    ax.set_ylabel(f"architectures above it (of {total})")
    ax.set_ylim(-0.5, total + 0.5)
    ax.legend()
    save_figure(fig, path)


def run(config: ArchitecturesConfig) -> dict | None:
    """Trains every pair (skipping finished ones, resuming a killed one) and writes the
    table; returns table.json's content, or `None` where `max_minutes` ran out first (rerun
    to continue)."""
    deadline = None if config.max_minutes is None else time.monotonic() + 60 * config.max_minutes
    # The whole table's lock and record; each pair's directory has its own record too.
    with kwgan.run.Run(
        config.out, config.to_dict(), free=config.free_fields(), defaults=config.defaults()
    ) as run:
        results, reference = {}, None
        try:
            for name, description in runs(config):
                by_objective = {
                    o: train_one(config, name, description, o, deadline) for o in OBJECTIVES
                }
                if name == "reference":
                    reference = by_objective
                else:
                    results[name] = by_objective
        except OutOfTime:
            print(f"--max_minutes {config.max_minutes} spent; rerun the same command to continue.")
            return None
        table = write_table(config, results, reference)
        run.complete(config.steps)
    return table
