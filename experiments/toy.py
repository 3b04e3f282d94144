"""Reproduces the WGAN-GP paper's 2-D experiments (Fig. 1 and the toy results of §4).

The defaults are the reference `gan_toy.py` settings: 3 × 512 ReLU MLPs, 2-D noise, batch
256, 5 critic iterations, Adam 1e-4 with β = (0.5, 0.9) and λ = 0.1 for `wgan-gp` ("smaller
lambda makes things faster for toy tasks"; `--gp_weight 10` gives the library default the
paper uses on images), RMSProp 5e-5 and clipping at 0.01 for `wgan`. Quality is measured,
not eyeballed: at every evaluation point the **exact** W1 (optimal transport) between 2000
generated and 2000 target points, beside the two-sample floor (W1 between two independent
2000-point target samples), and for the Gaussian mixtures the modes covered and the
fraction of samples within 3σ of a centre.

    python experiments/toy.py --dataset 8gaussians --objective wgan-gp --steps 10000 --out runs/toy
    python experiments/toy.py --fixed_generator --objective wgan --out runs/fig1a_wgan

Writes into --out: samples.npy, metrics.json, critic_surface.png, w_estimate.png,
evaluations.jsonl (each evaluation as it happens), run.json (the flags) and checkpoints/.
Rerunning with the same --out resumes where a killed run stopped and ends exactly as the
uninterrupted run would; a larger --steps continues a finished run.
"""

from __future__ import annotations

import functools
import os
import sys

from absl import flags

flags.DEFINE_enum(
    "dataset", "8gaussians", ["8gaussians", "25gaussians", "swissroll"], "Target distribution."
)
flags.DEFINE_enum(
    "objective", "wgan-gp", ["wgan", "wgan-gp", "dcgan", "lsgan"], "Adversarial objective."
)
flags.DEFINE_integer("steps", 10_000, "Generator iterations.")
flags.DEFINE_integer("batch_size", 256, "Batch size (the reference's 256).")
flags.DEFINE_integer(
    "critic_steps", None, "Critic iterations per generator iteration (objective default)."
)
flags.DEFINE_float(
    "gp_weight", 0.1, "Gradient-penalty weight λ (gan_toy.py: 0.1; the paper's images: 10)."
)
flags.DEFINE_boolean(
    "warmup", None, "WGAN repo's 100-critic-iteration warm-up (objective default)."
)
flags.DEFINE_float(
    "beta1", 0.5, "Adam β1 for Adam-based objectives (gan_toy.py: 0.5; Algorithm 1: 0)."
)
flags.DEFINE_integer("dim", 512, "Hidden width of both MLPs.")
flags.DEFINE_integer("seed", 0, "Seed of weights, noise and data.")
flags.DEFINE_boolean(
    "fixed_generator", False, "Fig. 1a: train the critic alone against real data + N(0, I)."
)
flags.DEFINE_integer("eval_every", 500, "Evaluate exact W1 every this many generator iterations.")
flags.DEFINE_integer("eval_samples", 2000, "Points per side in the exact W1.")
flags.DEFINE_integer(
    "checkpoint_every",
    1000,
    "Checkpoint every this many critic iterations (fit steps).",
    lower_bound=1,
)
flags.DEFINE_float(
    "max_minutes",
    None,
    "Stop (and evaluate, plot, save) after this much wall time; rerun to continue.",
)
flags.DEFINE_string("out", "runs/toy", "Output directory (a rerun resumes it).")
flags.DEFINE_string(
    "tensorboard",
    None,
    "Also log the losses per generator iteration and the evaluations to this TensorBoard "
    "log directory.",
)
FLAGS = flags.FLAGS


def build_gan(dataset: str, fixed: bool, dim: int, seed: int):
    import keras

    import kwgan

    keras.utils.set_random_seed(seed)
    if fixed:
        generator = kwgan.architectures.fixed_generator(
            kwgan.data.sample(dataset, 100_000, seed=seed + 7)
        )
    else:
        generator = kwgan.architectures.toy_generator(dim=dim)
    return kwgan.GAN(generator, kwgan.architectures.toy_critic(dim=dim), seed=seed)


# Flags that change no result, so a resumed run may change them (--steps may grow).
FREE_FLAGS = ("out", "max_minutes", "checkpoint_every", "tensorboard")


def evaluator(dataset: str, n: int, seed: int):
    """Returns `evaluate(gan, iteration) -> dict` of exact W1 (and mode statistics), each
    result also printed as a JSON line."""
    import json

    import numpy as np

    import kwgan

    target = kwgan.data.sample(dataset, n, seed=seed + 1)

    def evaluate(gan, iteration: int) -> dict:
        noise = np.random.default_rng(seed + 2).normal(size=(n, gan.latent_dim)).astype("float32")
        samples = np.asarray(gan.generator.predict(noise, batch_size=n, verbose=0))
        result = {"w1": kwgan.metrics.exact_w1(samples, target)}
        if dataset != "swissroll":
            stats = kwgan.metrics.mode_stats(
                samples, kwgan.data.centers(dataset), kwgan.data.stddev(dataset)
            )
            result.update(
                modes_covered=stats["modes_covered"],
                high_quality_fraction=stats["high_quality_fraction"],
            )
        print(json.dumps({"iteration": iteration, **result}), flush=True)
        return result

    return evaluate


def compile_gan(gan) -> None:
    import kwgan

    objective = kwgan.objectives.get(FLAGS.objective)
    g_opt, d_opt = objective.optimizers(beta_1=FLAGS.beta1 if objective.adam else None)
    gan.compile(
        FLAGS.objective,
        generator_optimizer=g_opt,
        critic_optimizer=d_opt,
        critic_steps=FLAGS.critic_steps,
        warmup=FLAGS.warmup,
        gp_weight=FLAGS.gp_weight if FLAGS.objective == "wgan-gp" else None,
    )


def train(run, gan):
    """Trains (resuming from the run's checkpoint); returns the history, evaluation and
    stopwatch callbacks, whose state covers the whole run."""
    import kwgan

    evaluate = evaluator(FLAGS.dataset, FLAGS.eval_samples, FLAGS.seed)
    extra = [kwgan.callbacks.TimeLimit(60 * FLAGS.max_minutes)] if FLAGS.max_minutes else []
    if FLAGS.tensorboard:
        board = kwgan.tensorboard.TensorBoard(FLAGS.tensorboard)
        evaluate = board.logged(evaluate)
        extra.append(board)
    callbacks = {
        "history": kwgan.callbacks.LossHistory(),
        "evaluation": kwgan.callbacks.EvaluateEvery(
            FLAGS.eval_every, evaluate, log_path=os.path.join(FLAGS.out, "evaluations.jsonl")
        ),
        "stopwatch": kwgan.callbacks.Stopwatch(),
    }

    def dataset(start_batch: int):
        return kwgan.data.toy(
            FLAGS.dataset, FLAGS.batch_size, seed=FLAGS.seed, start_batch=start_batch
        )

    kwgan.run.train(
        run,
        gan,
        dataset,
        callbacks=[*callbacks.values(), *extra],
        stateful=callbacks,
        checkpoint_every=FLAGS.checkpoint_every,
    )
    return callbacks["history"], callbacks["evaluation"], callbacks["stopwatch"]


def write_outputs(gan, history, evaluation, stopwatch) -> None:
    """samples.npy, metrics.json and the two plots, each written atomically."""
    import keras
    import numpy as np
    from scipy.stats import spearmanr

    import kwgan
    from kwgan.io import atomic_path, write_json

    iterations = int(keras.ops.convert_to_numpy(gan.generator_iterations))
    floor = kwgan.metrics.w1_floor(
        functools.partial(kwgan.data.sample, FLAGS.dataset), FLAGS.eval_samples
    )
    noise = np.random.default_rng(FLAGS.seed + 3).normal(size=(FLAGS.eval_samples, gan.latent_dim))
    samples = np.asarray(gan.generator.predict(noise.astype("float32"), verbose=0), "float32")
    with atomic_path(os.path.join(FLAGS.out, "samples.npy"), suffix=".npy") as tmp:
        np.save(tmp, samples)

    evals = evaluation.results
    w_est = dict(zip(history.iterations, history.history.get("w_estimate", []), strict=False))
    smoothed = dict(
        zip(history.iterations, kwgan.plots.median_filter(list(w_est.values())), strict=False)
    )
    paired = [(smoothed[e["iteration"]], e["w1"]) for e in evals if e["iteration"] in smoothed]
    spearman = float(spearmanr(*zip(*paired, strict=False))[0]) if len(paired) > 2 else None
    final = evals[-1]
    write_json(
        os.path.join(FLAGS.out, "metrics.json"),
        {
            "config": {
                k: FLAGS[k].value
                for k in (
                    "dataset",
                    "objective",
                    "steps",
                    "batch_size",
                    "critic_steps",
                    "gp_weight",
                    "warmup",
                    "beta1",
                    "dim",
                    "seed",
                    "fixed_generator",
                    "eval_samples",
                )
            },
            "backend": keras.backend.backend(),
            "seconds": stopwatch.seconds,
            "generator_iterations": iterations,
            "seconds_per_generator_iteration": stopwatch.seconds / max(iterations, 1),
            "steady_seconds_per_generator_iteration": (
                stopwatch.steady_seconds_per_generator_iteration
            ),
            "w1_floor": floor,
            "final": {**final, "w1_over_floor": final["w1"] / floor},
            "spearman_w_estimate_vs_w1": spearman,
            "evaluations": evals,
            "logs": {"iterations": history.iterations, **history.history},
        },
    )
    real = kwgan.data.sample(FLAGS.dataset, 512, seed=FLAGS.seed + 4)
    title = f"{FLAGS.objective} on {FLAGS.dataset}, {iterations} generator iterations"
    kwgan.plots.critic_surface(
        gan.critic, real, samples[:512], os.path.join(FLAGS.out, "critic_surface.png"), title=title
    )
    if w_est:
        kwgan.plots.w_estimate_curve(
            list(w_est),
            list(w_est.values()),
            os.path.join(FLAGS.out, "w_estimate.png"),
            exact=([e["iteration"] for e in evals], [e["w1"] for e in evals]),
            title=title,
        )
    print(
        f"final W1 {final['w1']:.4f} (floor {floor:.4f}, ratio {final['w1'] / floor:.2f})",
        {k: v for k, v in final.items() if k != "w1"},
        f"spearman {spearman}",
        f"{stopwatch.seconds:.0f}s",
    )


def main(argv):
    del argv
    import keras

    import kwgan

    config = kwgan.cli.flag_values(sys.modules[__name__])
    with kwgan.run.Run(FLAGS.out, config, free=FREE_FLAGS) as run:
        if run.already_complete():
            print(run.complete_message)
            return
        gan = build_gan(FLAGS.dataset, FLAGS.fixed_generator, FLAGS.dim, FLAGS.seed)
        compile_gan(gan)
        history, evaluation, stopwatch = train(run, gan)
        write_outputs(gan, history, evaluation, stopwatch)
        run.complete(int(keras.ops.convert_to_numpy(gan.generator_iterations)))


if __name__ == "__main__":
    from kwgan.cli import run

    run(main)
