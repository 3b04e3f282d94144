"""The WGAN-GP paper's 2-D experiments (Fig. 1 and the toy results of §4).

`ToyConfig` holds one run's settings with the reference `gan_toy.py`'s defaults: 3 × 512
ReLU MLPs, 2-D noise, batch 256, 5 critic iterations, Adam 1e-4 with β = (0.5, 0.9) and
λ = 0.1 for `wgan-gp` ("smaller lambda makes things faster for toy tasks"), RMSProp 5e-5
and clipping at 0.01 for `wgan`. `run(config)` trains it resumably and writes into
`config.out`:

* `samples.npy`: `eval_samples` generated points, float32 [N, 2];
* `metrics.json`: the config, timings, the two-sample floor (W1 between two independent
  target samples), every evaluation (`ExactW1`: the exact W1 against the target, and on the
  Gaussian mixtures the modes covered and the fraction of samples within 3σ of a centre),
  the final one over the floor, the rank correlation of the critic's W estimate with the
  exact W1 (WGAN §4.2), and every logged loss;
* `evaluations.jsonl` (each evaluation as it happens), `critic_surface.png` (Fig. 1),
  `w_estimate.png`, `run.json` and `checkpoints/`.

Rerunning into the same `out` resumes where a killed run stopped and ends exactly as the
uninterrupted run would; a larger `steps` continues a finished run. `experiments/toy.py` is
this module's command line.
"""

from __future__ import annotations

import dataclasses
import functools
import os

import keras
import numpy as np

import kwgan
from kwgan.experiment import training
from kwgan.experiment.config import (
    Config,
    checkpoint_option,
    option,
    out_option,
    seed_option,
    time_limit_option,
)
from kwgan.metrics import evaluators


def _datasets() -> tuple[str, ...]:
    return kwgan.data.TOY_NAMES


def _objectives() -> tuple[str, ...]:
    return tuple(kwgan.objectives.OBJECTIVES)


@dataclasses.dataclass(frozen=True)
class ToyConfig(Config):
    """One 2-D run (WGAN-GP Fig. 1 and §4's toy results)."""

    dataset: str = option("8gaussians", "Target distribution.", choices=_datasets)
    objective: str = option("wgan-gp", "Adversarial objective.", choices=_objectives)
    steps: int = option(10_000, "Generator iterations.", minimum=1)
    batch_size: int = option(256, "Batch size (the reference's 256).", minimum=1)
    critic_steps: int | None = option(
        None, "Critic iterations per generator iteration (objective default).", minimum=1
    )
    gp_weight: float = option(
        0.1, "Gradient-penalty weight λ (gan_toy.py: 0.1; the paper's images: 10).", minimum=0
    )
    warmup: bool | None = option(
        None, "WGAN repo's 100-critic-iteration warm-up (objective default)."
    )
    beta1: float = option(
        0.5, "Adam β1 for Adam-based objectives (gan_toy.py: 0.5; Algorithm 1: 0)."
    )
    dim: int = option(512, "Hidden width of both MLPs.", minimum=1)
    seed: int = seed_option("Seed of weights, noise and data.")
    fixed_generator: bool = option(
        False, "Fig. 1a: train the critic alone against real data + N(0, I)."
    )
    eval_every: int = option(
        500, "Evaluate exact W1 every this many generator iterations.", minimum=1
    )
    eval_samples: int = option(2000, "Points per side in the exact W1.", minimum=1)
    checkpoint_every: int = checkpoint_option(1000)
    max_minutes: float | None = time_limit_option()
    out: str = out_option("runs/toy")
    tensorboard: str | None = option(
        None,
        "Also log the losses per generator iteration and the evaluations to this TensorBoard "
        "log directory.",
        free=True,
    )


def build_gan(config: ToyConfig) -> kwgan.GAN:
    """The compiled GAN: the toy MLPs (or Fig. 1a's fixed generator: real data plus
    N(0, I) noise) and the objective with `gan_toy.py`'s λ and β1."""
    keras.utils.set_random_seed(config.seed)
    if config.fixed_generator:
        bank = kwgan.data.sample(config.dataset, 100_000, seed=config.seed + 7)
        generator = kwgan.architectures.fixed_generator(bank)
    else:
        generator = kwgan.architectures.toy_generator(dim=config.dim)
    gan = kwgan.GAN(generator, kwgan.architectures.toy_critic(dim=config.dim), seed=config.seed)
    objective = kwgan.objectives.get(config.objective)
    g_opt, d_opt = objective.optimizers(config.beta1 if objective.adam else None)
    gan.compile(
        config.objective,
        generator_optimizer=g_opt,
        critic_optimizer=d_opt,
        schedule=objective.schedule(config.critic_steps, config.warmup),
        gp_weight=config.gp_weight if objective.gp_weight else None,  # penalised objectives only
    )
    return gan


def dataset(config: ToyConfig, start_batch: int) -> kwgan.data.ToyDataset:
    """The training batches from batch `start_batch` of the seeded stream on."""
    return kwgan.data.toy(
        config.dataset, config.batch_size, seed=config.seed, start_batch=start_batch
    )


def train(run: kwgan.run.Run, gan: kwgan.GAN, config: ToyConfig) -> dict:
    """Trains (resuming from the run's checkpoint); returns the stateful callbacks by name
    (the loss history, the evaluations, the stopwatch), whose state covers the whole run."""
    evaluate = evaluators.Printed(
        evaluators.ExactW1(config.dataset, config.eval_samples, config.seed)
    )
    board = kwgan.tensorboard.TensorBoard(config.tensorboard) if config.tensorboard else None
    stateful = {
        "history": kwgan.callbacks.LossHistory(),
        "evaluation": kwgan.callbacks.EvaluateEvery(
            config.eval_every,
            board.logged(evaluate) if board else evaluate,
            log_path=os.path.join(config.out, "evaluations.jsonl"),
        ),
        "stopwatch": kwgan.callbacks.Stopwatch(),
    }
    training.train(
        run,
        gan,
        lambda start: dataset(config, start),
        config,
        stateful,
        last=[board] if board else [],
    )
    return stateful


def final_outputs(gan: kwgan.GAN, config: ToyConfig, stateful: dict) -> tuple[np.ndarray, dict]:
    """The points of samples.npy and the metrics of metrics.json."""
    z = evaluators.noise(config.seed + 3, config.eval_samples, gan.latent_dim)
    samples = np.asarray(gan.generator.predict(z.astype("float32"), verbose=0), "float32")
    history, stopwatch = stateful["history"], stateful["stopwatch"]
    evaluations = stateful["evaluation"].results
    iterations = training.generator_iterations(gan)
    floor = kwgan.metrics.w1_floor(
        functools.partial(kwgan.data.sample, config.dataset), config.eval_samples
    )
    w_estimate = history.history.get("w_estimate")
    spearman = None
    if w_estimate:
        spearman = kwgan.plots.rank_correlation(
            history.iterations,
            w_estimate,
            [e["iteration"] for e in evaluations],
            [e["w1"] for e in evaluations],
        )
    final = evaluations[-1]
    metrics = {
        "config": config.result_fields(),
        "backend": keras.backend.backend(),
        "seconds": stopwatch.seconds,
        "generator_iterations": iterations,
        "seconds_per_generator_iteration": stopwatch.seconds / max(iterations, 1),
        "steady_seconds_per_generator_iteration": stopwatch.steady_seconds_per_generator_iteration,
        "w1_floor": floor,
        "final": {**final, "w1_over_floor": final["w1"] / floor},
        "spearman_w_estimate_vs_w1": spearman,
        "evaluations": evaluations,
        "logs": {"iterations": history.iterations, **history.history},
    }
    return samples, metrics


def write_outputs(gan: kwgan.GAN, config: ToyConfig, samples: np.ndarray, metrics: dict) -> None:
    """samples.npy, metrics.json, the critic's surface and the W-estimate curve beside the
    exact W1, each written atomically."""
    from kwgan.io import atomic_path, write_json

    with atomic_path(os.path.join(config.out, "samples.npy"), suffix=".npy") as tmp:
        np.save(tmp, samples)
    write_json(os.path.join(config.out, training.METRICS_FILE), metrics)
    title = (
        f"{config.objective} on {config.dataset}, {metrics['generator_iterations']} "
        "generator iterations"
    )
    real = kwgan.data.sample(config.dataset, 512, seed=config.seed + 4)
    kwgan.plots.critic_surface(
        gan.critic, real, samples[:512], os.path.join(config.out, "critic_surface.png"), title=title
    )
    logs, evaluations = metrics["logs"], metrics["evaluations"]
    if logs.get("w_estimate"):
        kwgan.plots.w_estimate_curve(
            logs["iterations"],
            logs["w_estimate"],
            os.path.join(config.out, "w_estimate.png"),
            exact=([e["iteration"] for e in evaluations], [e["w1"] for e in evaluations]),
            title=title,
        )


def summary(metrics: dict) -> str:
    """What the command line prints at the end: the final W1 against the floor, the mode
    statistics, the rank correlation and the time."""
    final, floor = metrics["final"], metrics["w1_floor"]
    others = {k: v for k, v in final.items() if k not in ("w1", "w1_over_floor")}
    return (
        f"final W1 {final['w1']:.4f} (floor {floor:.4f}, ratio {final['w1_over_floor']:.2f}) "
        f"{others} spearman {metrics['spearman_w_estimate_vs_w1']} {metrics['seconds']:.0f}s"
    )


def run(config: ToyConfig) -> dict | None:
    """Trains `config` (resuming `config.out`), writes its outputs, prints a summary;
    returns its metrics.json (also for a run that had already finished)."""

    def train_and_write(run: kwgan.run.Run) -> int:
        gan = build_gan(config)
        stateful = train(run, gan, config)
        samples, metrics = final_outputs(gan, config, stateful)
        write_outputs(gan, config, samples, metrics)
        print(summary(metrics))
        return metrics["generator_iterations"]

    return training.resumable(config, train_and_write)
