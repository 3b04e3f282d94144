"""Reproduces the WGAN-GP paper's character-level language model (§5.5, Table 4).

The defaults are the reference `gan_language.py`: lines of 32 characters, one-hot, a 1-D
ResNet generator with a softmax output (no sampling) against a 1-D ResNet critic, both 512
wide with five residual blocks; batch 64, 10 critic iterations per generator iteration,
λ = 10, Adam(1e-4, β = (0.5, 0.9)), 200 000 generator iterations. Every `--eval_every`
generator iterations it decodes 640 samples by argmax into `samples/samples_<it>.txt` and
logs the Jensen–Shannon divergences (bits) between their character n-gram distributions
(n = 1 … 4) and the corpus', beside the reference's baseline: the first 640 corpus lines
against the rest.

The paper trained on the One Billion Word benchmark (`--corpus lm1b`, read through
tensorflow-datasets where it is prepared). Offline, the default corpus is the English prose
of the Python Language Reference that CPython ships (`--corpus pydoc`,
`kwgan.data.text.prose_sentences`); `--text FILE` trains on any text file, a line per example.
The paper reports that the standard GAN objective gave no comparable text with these
networks; `--objective dcgan` trains the same networks with it (Adam 2e-4, β = (0.5, 0.999), one
critic iteration, the reference's `dcgan` settings in its other scripts).

    python experiments/language.py --out runs/language                  # the paper's run (GPU)
    python experiments/language.py --dim 64 --steps 250 --eval_every 25 \
        --out runs/language_wgan-gp                                      # README, CPU
    python experiments/language.py --objective dcgan --dim 64 --steps 1000 --eval_every 25 \
        --out runs/language_dcgan
    python experiments/language.py --text my_corpus.txt --out runs/language_mine

Writes into --out: samples/samples_<it>.txt, evaluations.jsonl (each evaluation as it
happens), metrics.json (baseline, final and every divergence, the losses, timings), js.png
(the divergences against generator iterations), run.json (the flags) and checkpoints/.
Rerunning with the same --out resumes where a killed run stopped and ends exactly as the
uninterrupted run would; a larger --steps continues a finished run.
"""

from __future__ import annotations

import json
import os
import sys

from absl import flags

flags.DEFINE_enum(
    "corpus", "pydoc", ["pydoc", "lm1b"], "Corpus: Python's reference prose, or Billion Word."
)
flags.DEFINE_string("text", None, "Train on this UTF-8 text file's lines instead of --corpus.")
flags.DEFINE_string("data_dir", None, "Where tensorflow-datasets keeps lm1b prepared.")
flags.DEFINE_integer("max_examples", 10_000_000, "Lines read at most (MAX_N_EXAMPLES).")
flags.DEFINE_integer("seq_len", 32, "Characters per line (SEQ_LEN).", lower_bound=1)
flags.DEFINE_integer("max_vocab", 2048, "Vocabulary size at most, 'unk' included.", lower_bound=2)
flags.DEFINE_enum(
    "objective", "wgan-gp", ["wgan", "wgan-gp", "dcgan", "lsgan"], "Adversarial objective."
)
flags.DEFINE_integer("steps", 200_000, "Generator iterations (ITERS).")
flags.DEFINE_integer("batch_size", 64, "Batch size (BATCH_SIZE).")
flags.DEFINE_integer(
    "critic_steps",
    None,
    "Critic iterations per generator iteration (default: gan_language.py's 10 for wgan-gp, "
    "the objective's own otherwise).",
)
flags.DEFINE_float("gp_weight", 10.0, "Gradient-penalty weight λ (LAMBDA), for wgan-gp.")
flags.DEFINE_float("beta1", 0.5, "Adam β1 for Adam-based objectives (gan_language.py: 0.5).")
flags.DEFINE_integer("dim", 512, "Width of both networks (DIM).", lower_bound=1)
flags.DEFINE_integer("latent_dim", 128, "Noise dimension.", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the shuffle, weights, noise and batches.")
flags.DEFINE_integer("eval_every", 100, "Evaluate every this many generator iterations.")
flags.DEFINE_integer("eval_samples", 640, "Lines generated per evaluation (10 × 64).")
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
flags.DEFINE_string("out", "runs/language", "Output directory (a rerun resumes it).")
FLAGS = flags.FLAGS

# Flags that change no result, so a resumed run may change them (--steps may grow).
FREE_FLAGS = ("out", "max_minutes", "checkpoint_every", "data_dir")
LANGUAGE_CRITIC_STEPS = 10  # gan_language.py's CRITIC_ITERS ("5 should work fine as well")


def load_corpus():
    """The corpus as shuffled int32 codes [N, seq_len] and its vocabulary."""
    from kwgan.data import text
    from kwgan.errors import ConfigError

    if FLAGS.text is not None:
        if FLAGS["corpus"].present:
            raise ConfigError("Pass either --text or --corpus, not both.")
        lines = text.text_lines(FLAGS.text, max_examples=FLAGS.max_examples)
    else:
        lines = text.corpus_lines(
            FLAGS.corpus, data_dir=FLAGS.data_dir, max_examples=FLAGS.max_examples
        )
    return text.prepare(lines, seq_len=FLAGS.seq_len, max_vocab=FLAGS.max_vocab, seed=FLAGS.seed)


def build_gan(vocab_size: int):
    import keras

    import kwgan
    from kwgan.architectures.language import language_critic, language_generator

    keras.utils.set_random_seed(FLAGS.seed)
    generator = language_generator(
        vocab_size, seq_len=FLAGS.seq_len, dim=FLAGS.dim, latent_dim=FLAGS.latent_dim
    )
    critic = language_critic(vocab_size, seq_len=FLAGS.seq_len, dim=FLAGS.dim)
    return kwgan.GAN(generator, critic, seed=FLAGS.seed)


def compile_gan(gan) -> None:
    import kwgan

    objective = kwgan.objectives.get(FLAGS.objective)
    critic_steps = FLAGS.critic_steps
    if critic_steps is None and FLAGS.objective == "wgan-gp":
        critic_steps = LANGUAGE_CRITIC_STEPS
    g_opt, d_opt = objective.optimizers(beta_1=FLAGS.beta1 if objective.adam else None)
    gan.compile(
        FLAGS.objective,
        generator_optimizer=g_opt,
        critic_optimizer=d_opt,
        critic_steps=critic_steps,
        gp_weight=FLAGS.gp_weight if FLAGS.objective == "wgan-gp" else None,
    )


def evaluator(codes, vocabulary):
    """Returns `evaluate(gan, iteration) -> {"js1": …, "js4": …}`: the n-gram divergences of
    freshly generated lines from the whole corpus (as `gan_language.py` scores them), with
    the lines written to samples/samples_<it>.txt and the result printed as a JSON line."""
    import numpy as np

    from kwgan.data.text import decode
    from kwgan.io import atomic_path
    from kwgan.metrics import ngrams

    corpus = ngrams.ngram_models(codes)

    def evaluate(gan, iteration: int) -> dict:
        # Noise drawn from (seed, iteration): a resumed run writes the same samples.
        rng = np.random.default_rng((FLAGS.seed, iteration))
        noise = rng.normal(size=(FLAGS.eval_samples, gan.latent_dim)).astype("float32")
        samples = gan.generate(noise, batch_size=FLAGS.batch_size).argmax(axis=-1)
        result = ngrams.js_divergences(samples, corpus)
        path = os.path.join(FLAGS.out, "samples", f"samples_{iteration}.txt")
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in decode(samples, vocabulary))
        print(json.dumps({"iteration": iteration, **result}), flush=True)
        return result

    return evaluate


def train(run, gan, codes, vocabulary):
    """Trains (resuming from the run's checkpoint); returns the history, evaluation and
    stopwatch callbacks, whose state covers the whole run."""
    import kwgan
    from kwgan.data.text import OneHotBatches

    extra = [kwgan.callbacks.TimeLimit(60 * FLAGS.max_minutes)] if FLAGS.max_minutes else []
    callbacks = {
        "history": kwgan.callbacks.LossHistory(),
        "evaluation": kwgan.callbacks.EvaluateEvery(
            FLAGS.eval_every,
            evaluator(codes, vocabulary),
            log_path=os.path.join(FLAGS.out, "evaluations.jsonl"),
        ),
        "stopwatch": kwgan.callbacks.Stopwatch(),
    }

    def dataset(start_batch: int):
        return OneHotBatches(
            codes,
            len(vocabulary),
            batch_size=FLAGS.batch_size,
            seed=FLAGS.seed,
            start_batch=start_batch,
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


def plot_js(evaluations: list[dict], baseline: dict, path: str, title: str) -> None:
    """The divergences against generator iterations, one colour per n, each with its
    baseline dashed; the y axis spans JS's whole range, 0 … 1 bit, so runs compare."""
    from kwgan.plots import pyplot, save_figure

    plt = pyplot()

    iterations = [e["iteration"] for e in evaluations]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, key in enumerate(baseline):
        color = f"C{i}"
        label = f"n = {key.removeprefix('js')}"
        ax.plot(iterations, [e[key] for e in evaluations], "o-", ms=3, color=color, label=label)
        ax.axhline(baseline[key], ls="--", lw=0.8, color=color)
    ax.set_xlabel("generator iterations")
    ax.set_ylabel("JS divergence to the corpus (bits)")
    ax.set_ylim(0.0, 1.0)
    ax.legend(
        title="n-grams\n(dashed: real\ntext, 640 lines)",
        fontsize=8,
        title_fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)


def write_outputs(gan, codes, vocabulary, history, evaluation, stopwatch) -> None:
    """metrics.json and js.png, each written atomically."""
    import keras

    from kwgan.io import write_json
    from kwgan.metrics import ngrams

    iterations = int(keras.ops.convert_to_numpy(gan.generator_iterations))
    baseline = ngrams.baseline(codes)
    final = evaluation.results[-1]
    write_json(
        os.path.join(FLAGS.out, "metrics.json"),
        {
            "config": kwgan_config(),
            "backend": keras.backend.backend(),
            "corpus": {"lines": len(codes), "vocab_size": len(vocabulary)},
            "parameters": {
                "generator": gan.generator.count_params(),
                "critic": gan.critic.count_params(),
            },
            "seconds": stopwatch.seconds,
            "generator_iterations": iterations,
            "steady_seconds_per_generator_iteration": (
                stopwatch.steady_seconds_per_generator_iteration
            ),
            "baseline": baseline,
            "final": final,
            "final_samples": os.path.join("samples", f"samples_{final['iteration']}.txt"),
            "evaluations": evaluation.results,
            "logs": {"iterations": history.iterations, **history.history},
        },
    )
    title = (
        f"{FLAGS.objective}, width {FLAGS.dim}, {len(codes)} lines of {FLAGS.text or FLAGS.corpus}"
    )
    plot_js(evaluation.results, baseline, os.path.join(FLAGS.out, "js.png"), title)
    summary = ", ".join(f"{k} {final[k]:.3f} (real {baseline[k]:.3f})" for k in baseline)
    print(f"after {iterations} generator iterations: {summary}; {stopwatch.seconds:.0f}s")


def kwgan_config() -> dict:
    import kwgan

    return kwgan.cli.flag_values(sys.modules[__name__])


def main(argv):
    del argv
    import keras

    import kwgan

    codes, vocabulary = load_corpus()  # a missing corpus fails before run.json exists
    with kwgan.run.Run(FLAGS.out, kwgan_config(), free=FREE_FLAGS) as run:
        if run.already_complete():
            print(run.complete_message)
            return
        gan = build_gan(len(vocabulary))
        compile_gan(gan)
        history, evaluation, stopwatch = train(run, gan, codes, vocabulary)
        write_outputs(gan, codes, vocabulary, history, evaluation, stopwatch)
        run.complete(int(keras.ops.convert_to_numpy(gan.generator_iterations)))


if __name__ == "__main__":
    from kwgan.cli import run

    run(main)
