"""Reproduces the WGAN-GP paper's robustness tables (§5.1, Tables 2 and 5): random
architectures from Table 1, each trained under the GAN objective and under WGAN-GP.

For each of --num_architectures descriptions drawn by `kwgan.architectures.sampler` (the
space of Table 1: nonlinearity, depth, BN and base filters of G and D), and for the DCGAN
of the space (Table 5's "reference DCGAN"), both objectives train for the same --steps
generator iterations with Appendix B's optimizers: GAN Adam(2e-4, β = (0.5, 0.999)), WGAN-GP
Adam(1e-4, β = (0, 0.9)), λ = 10 and 5 critic iterations; when D normalises (batch norm for
the GAN, layer norm for WGAN-GP) its optimizer adds weight decay 1e-3 "for both
algorithms" (Keras's decoupled form). The paper scores by Inception Score on 32×32 ImageNet
after 100K iterations; kwgan scores the digits with their classifier score (the Inception
Score protocol with a digits classifier, `kwgan.metrics.digits.classifier_score`, 1 … 10,
held-out real digits ≈ 9.4). A run that diverges (a NaN loss) fails at every threshold.

    python experiments/architectures.py --num_architectures 200 --steps 100000 \\
        --out runs/architectures
    python experiments/architectures.py --num_architectures 12 --steps 200 --batch_size 32 \\
        --image_size 16 --width_divisor 4 --out runs/architectures_cpu

Writes into --out: one directory per (architecture, objective), `arch007_wgan-gp/` or
`reference_dcgan/`, with architecture.json (the sampled description), result.json (score,
Fréchet distance in the classifier's features, seconds), samples.png, run.json and
checkpoints/; then table.json and table.md (Table 5's rows: for each minimum score, how many
architectures succeeded only under the GAN, only under WGAN-GP, under both, under neither)
and success.png (successes against the minimum score for each objective). Rerunning with
the same --out skips the finished pairs, resumes a killed one from its checkpoint, and ends
as the uninterrupted run would; --max_minutes stops cleanly (rerun to go on).
"""

from __future__ import annotations

import os
import sys
import time

from absl import flags

flags.DEFINE_integer("num_architectures", 200, "Architectures sampled from Table 1.", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the sampled architectures, their weights and the data.")
flags.DEFINE_integer("steps", 100_000, "Generator iterations of every run (Appendix B: 100K).")
flags.DEFINE_integer("batch_size", 64, "Batch size.", lower_bound=1)
flags.DEFINE_enum(
    "dataset",
    "digits",
    ["digits"],
    "Training images: the digits, which a classifier scores (kwgan has no Inception Score).",
)
flags.DEFINE_integer("image_size", 32, "Image size (Appendix B: 32×32).")
flags.DEFINE_integer(
    "width_divisor", 1, "Divide every base filter count by this (CPU-sized runs).", lower_bound=1
)
flags.DEFINE_integer("latent_dim", 128, "Noise size.")
flags.DEFINE_boolean("reference", True, "Also train the space's DCGAN under both objectives.")
flags.DEFINE_integer("score_samples", 1000, "Samples scored per run (10 splits).", lower_bound=10)
flags.DEFINE_integer(
    "checkpoint_every", 500, "Checkpoint every this many fit steps.", lower_bound=1
)
flags.DEFINE_float("max_minutes", None, "Stop after this much wall time; rerun to continue.")
flags.DEFINE_string("out", "runs/architectures", "Output directory (a rerun resumes it).")
FLAGS = flags.FLAGS

OBJECTIVES = ("dcgan", "wgan-gp")
WEIGHT_DECAY = 1e-3  # Appendix B, when D uses batch or layer norm
THRESHOLDS = tuple(1.0 + 0.5 * i for i in range(17))  # Table 5's minimum scores, 1.0 … 9.0
RESULT_FILE = "result.json"
# Flags that change no result; --steps may grow (every run then continues).
FREE_FLAGS = ("out", "max_minutes", "checkpoint_every", "num_architectures", "reference")


class OutOfTime(Exception):
    """--max_minutes ran out before every run finished."""


def runs() -> list[tuple[str, dict]]:
    """(name, description) of every architecture this invocation trains, reference first."""
    from kwgan.architectures import sampler

    named = [("reference", sampler.REFERENCE)] if FLAGS.reference else []
    return named + [
        (f"arch{i:03d}", sampler.sample(FLAGS.seed, i)) for i in range(FLAGS.num_architectures)
    ]


def build_gan(description: dict, objective_name: str):
    """The compiled GAN of one (architecture, objective) pair with Appendix B's optimizers."""
    import keras

    import kwgan
    from kwgan.architectures import sampler

    keras.utils.set_random_seed(FLAGS.seed)
    generator, critic = sampler.build(
        description,
        objective=objective_name,
        image_size=FLAGS.image_size,
        channels=1,
        latent_dim=FLAGS.latent_dim,
        width_divisor=FLAGS.width_divisor,
    )
    gan = kwgan.GAN(generator, critic, seed=FLAGS.seed)
    g_opt, d_opt = kwgan.objectives.get(objective_name).optimizers()
    if description["critic"]["batch_norm"]:
        d_opt = d_opt.from_config({**d_opt.get_config(), "weight_decay": WEIGHT_DECAY})
    gan.compile(objective_name, generator_optimizer=g_opt, critic_optimizer=d_opt)
    return gan


def dataset(start_batch: int):
    """The training batches from global batch `start_batch` on: a tf.data stream where
    TensorFlow is installed, an in-memory PyDataset otherwise (as experiments/lsun.py)."""
    import importlib.util

    import kwgan

    shape = dict(image_size=FLAGS.image_size, channels=1)
    order = dict(batch_size=FLAGS.batch_size, seed=FLAGS.seed, start_batch=start_batch)
    if importlib.util.find_spec("tensorflow") is None:
        return kwgan.data.ImageBatches(kwgan.data.image_array(FLAGS.dataset, **shape), **order)
    return kwgan.data.images(FLAGS.dataset, cache=True, **shape, **order)


def score(gan, directory: str) -> dict:
    """Classifier score and Fréchet distance of --score_samples samples; writes samples.png."""
    import numpy as np

    import kwgan

    noise = np.random.default_rng(FLAGS.seed + 2).normal(size=(FLAGS.score_samples, gan.latent_dim))
    samples = gan.generate(noise, batch_size=250)
    kwgan.grid.save_grid(samples[:64], os.path.join(directory, "samples.png"), scale=2)
    mean, std = kwgan.metrics.classifier_score(samples)
    fd = kwgan.metrics.frechet_distance(samples, kwgan.metrics.real_digits("heldout"))
    return {"score": mean, "score_std": std, "fd": fd}


def train_one(name: str, description: dict, objective: str, deadline: float | None) -> dict:
    """Trains and scores one pair in its own resumable directory; returns its result.

    Raises `OutOfTime` (after checkpointing) when the deadline passes first.
    """
    import json

    import keras

    import kwgan
    from kwgan.io import write_json

    directory = os.path.join(FLAGS.out, f"{name}_{objective}")
    config = {
        **kwgan.cli.flag_values(sys.modules[__name__]),
        "architecture": description,
        "objective": objective,
    }
    for free in FREE_FLAGS:
        config.pop(free)
    with kwgan.run.Run(directory, config) as run:
        result_path = os.path.join(directory, RESULT_FILE)
        if run.already_complete():
            with open(result_path) as f:
                return json.load(f)
        if deadline is not None and time.monotonic() > deadline:
            raise OutOfTime
        write_json(os.path.join(directory, "architecture.json"), description)
        keras.backend.clear_session(free_memory=True)
        gan = build_gan(description, objective)
        stopwatch = kwgan.callbacks.Stopwatch()
        limit = [] if deadline is None else [kwgan.callbacks.TimeLimit(deadline - time.monotonic())]
        try:
            kwgan.run.train(
                run,
                gan,
                dataset,
                callbacks=[stopwatch, *limit],
                stateful={"stopwatch": stopwatch},
                checkpoint_every=FLAGS.checkpoint_every,
                progress=False,
            )
        except kwgan.errors.NonFiniteLossError as error:
            result = {"score": None, "diverged": str(error)}
        else:
            if kwgan.checkpoint.generator_iterations(gan) < FLAGS.steps:
                raise OutOfTime
            result = score(gan, directory)
        result.update(
            name=name,
            objective=objective,
            architecture=description,
            generator_iterations=int(keras.ops.convert_to_numpy(gan.generator_iterations)),
            seconds=stopwatch.seconds,
            steady_seconds_per_generator_iteration=stopwatch.steady_seconds_per_generator_iteration,
            parameters={
                "generator": gan.generator.count_params(),
                "critic": gan.critic.count_params(),
            },
        )
        write_json(result_path, result)
        run.complete(FLAGS.steps)
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


def write_table(results: dict[str, dict[str, dict]], reference: dict | None) -> None:
    """table.json, table.md and success.png."""
    import kwgan
    from kwgan.io import atomic_path, write_json

    rows = outcomes(results)
    real, _ = kwgan.metrics.classifier_score(kwgan.metrics.real_digits("heldout"))
    summary = {
        "config": {
            k: FLAGS[k].value
            for k in (
                "num_architectures",
                "seed",
                "steps",
                "batch_size",
                "dataset",
                "image_size",
                "width_divisor",
                "score_samples",
            )
        },
        "rows": rows,
        "reference": reference,
        "real_heldout_score": real,
        "architectures": results,
    }
    write_json(os.path.join(FLAGS.out, "table.json"), summary)
    lines = [
        f"{len(results)} architectures, {FLAGS.steps} generator iterations each, "
        f"{FLAGS.dataset} at {FLAGS.image_size}×{FLAGS.image_size}, base filters ÷ "
        f"{FLAGS.width_divisor}; classifier score of held-out real digits {real:.2f}.",
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
    with atomic_path(os.path.join(FLAGS.out, "table.md"), suffix=".md") as tmp:
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
    plot_successes(rows, len(results), os.path.join(FLAGS.out, "success.png"))
    print("\n".join(lines))


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


def main(argv):
    del argv
    import kwgan

    if FLAGS.steps < 1:
        raise kwgan.errors.ConfigError(f"--steps must be at least 1; got {FLAGS.steps}.")
    deadline = None if FLAGS.max_minutes is None else time.monotonic() + 60 * FLAGS.max_minutes
    config = kwgan.cli.flag_values(sys.modules[__name__])
    # The whole table's lock and flags; each pair's directory has its own record too.
    with kwgan.run.Run(FLAGS.out, config, free=FREE_FLAGS) as run:
        results, reference = {}, None
        try:
            for name, description in runs():
                by_objective = {o: train_one(name, description, o, deadline) for o in OBJECTIVES}
                if name == "reference":
                    reference = by_objective
                else:
                    results[name] = by_objective
        except OutOfTime:
            print(f"--max_minutes {FLAGS.max_minutes} spent; rerun the same command to continue.")
            return
        write_table(results, reference)
        run.complete(FLAGS.steps)


if __name__ == "__main__":
    from kwgan.cli import run

    run(main)
