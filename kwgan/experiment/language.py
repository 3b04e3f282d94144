"""The WGAN-GP paper's character-level language model (§5.5, Table 4).

`LanguageConfig` holds one run's settings with the reference `gan_language.py`'s defaults:
lines of 32 characters, one-hot, a 1-D ResNet generator with a softmax output (no sampling)
against a 1-D ResNet critic, both 512 wide with five residual blocks; batch 64, 10 critic
iterations per generator iteration (`LANGUAGE_CRITIC_STEPS`), λ = 10, Adam(1e-4,
β = (0.5, 0.9)), 200 000 generator iterations. The corpus is `corpus` (Python's reference
prose, offline, or Billion Word through tensorflow-datasets) or a `text` file's lines
(`kwgan.data.text`). `run(config)` trains it resumably and writes into `config.out`:

* `samples/samples_<it>.txt`: the lines generated at each evaluation (`NgramDivergence`,
  every `eval_every` generator iterations), decoded by argmax;
* `metrics.json`: the config, the corpus' size, parameter counts, timings, the baseline
  (the first 640 corpus lines against the rest), every evaluation's n-gram JS divergences
  (bits, n = 1 … 4) and every logged loss;
* `evaluations.jsonl` (each evaluation as it happens), `js.png` (the divergences against
  generator iterations), `run.json` and `checkpoints/`.

Rerunning into the same `out` resumes where a killed run stopped and ends exactly as the
uninterrupted run would; a larger `steps` continues a finished run. `experiments/language.py`
is this module's command line.
"""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np

import kwgan
from kwgan.errors import ConfigError, DataError
from kwgan.experiment import training
from kwgan.experiment.config import (
    Config,
    checkpoint_option,
    option,
    out_option,
    seed_option,
    time_limit_option,
)
from kwgan.metrics import evaluators, ngrams

LANGUAGE_CRITIC_STEPS = 10  # gan_language.py's CRITIC_ITERS ("5 should work fine as well")
DEFAULT_CORPUS = "pydoc"


def _corpora() -> tuple[str, ...]:
    return kwgan.data.text.CORPORA


def _objectives() -> tuple[str, ...]:
    return tuple(kwgan.objectives.OBJECTIVES)


@dataclasses.dataclass(frozen=True)
class LanguageConfig(Config):
    """One language-model run (WGAN-GP §5.5)."""

    corpus: str = option(
        DEFAULT_CORPUS,
        "Corpus: Python's reference prose, or Billion Word.",
        choices=_corpora,
    )
    text: str | None = option(None, "Train on this UTF-8 text file's lines instead of --corpus.")
    data_dir: str | None = option(None, "Where tensorflow-datasets keeps lm1b prepared.", free=True)
    max_examples: int = option(10_000_000, "Lines read at most (MAX_N_EXAMPLES).", minimum=1)
    seq_len: int = option(32, "Characters per line (SEQ_LEN).", minimum=1)
    max_vocab: int = option(2048, "Vocabulary size at most, 'unk' included.", minimum=2)
    objective: str = option("wgan-gp", "Adversarial objective.", choices=_objectives)
    steps: int = option(200_000, "Generator iterations (ITERS).", minimum=1)
    batch_size: int = option(64, "Batch size (BATCH_SIZE).", minimum=1)
    critic_steps: int | None = option(
        None,
        "Critic iterations per generator iteration (default: gan_language.py's 10 for wgan-gp, "
        "the objective's own otherwise).",
        minimum=1,
    )
    gp_weight: float = option(10.0, "Gradient-penalty weight λ (LAMBDA), for wgan-gp.", minimum=0)
    beta1: float = option(0.5, "Adam β1 for Adam-based objectives (gan_language.py: 0.5).")
    dim: int = option(512, "Width of both networks (DIM).", minimum=1)
    latent_dim: int = option(128, "Noise dimension.", minimum=1)
    seed: int = seed_option("Seed of the shuffle, weights, noise and batches.")
    eval_every: int = option(100, "Evaluate every this many generator iterations.", minimum=1)
    eval_samples: int = option(640, "Lines generated per evaluation (10 × 64).", minimum=1)
    checkpoint_every: int = checkpoint_option(1000)
    max_minutes: float | None = time_limit_option()
    out: str = out_option("runs/language")

    def validate(self) -> None:
        # `corpus` keeps its default beside `text` (as run.json has always recorded it), so
        # only another corpus is a contradiction.
        if self.text is not None and self.corpus != DEFAULT_CORPUS:
            raise ConfigError(
                f"Pass either text or corpus, not both: text {self.text!r} trains on that "
                f"file instead of corpus {self.corpus!r}."
            )


def load_corpus(config: LanguageConfig) -> tuple[np.ndarray, tuple[str, ...]]:
    """The training lines as shuffled int32 codes `[N, seq_len]` and their vocabulary."""
    if config.text is not None:
        lines = kwgan.data.text.text_lines(config.text, max_examples=config.max_examples)
    else:
        lines = kwgan.data.text.corpus_lines(
            config.corpus, data_dir=config.data_dir, max_examples=config.max_examples
        )
    return kwgan.data.text.prepare(
        lines, seq_len=config.seq_len, max_vocab=config.max_vocab, seed=config.seed
    )


def check_corpus_size(config: LanguageConfig, codes: np.ndarray) -> None:
    """Refuses, before training, a corpus too small for the baseline that metrics.json
    reports after it (real text's first `BASELINE_LINES` lines against the rest)."""
    if len(codes) <= ngrams.BASELINE_LINES:
        source = config.text or config.corpus
        raise DataError(
            f"{source} gives {len(codes)} lines (max_examples {config.max_examples}); the "
            f"n-gram baseline holds out {ngrams.BASELINE_LINES} and needs more: pass a larger "
            "max_examples or a longer text."
        )


def build_gan(config: LanguageConfig, vocab_size: int) -> kwgan.GAN:
    """The compiled GAN: `gan_language.py`'s 1-D ResNets and the objective with its
    critic iterations (10 for wgan-gp unless given), λ and β1."""
    keras.utils.set_random_seed(config.seed)
    generator = kwgan.architectures.language_generator(
        vocab_size, seq_len=config.seq_len, dim=config.dim, latent_dim=config.latent_dim
    )
    critic = kwgan.architectures.language_critic(vocab_size, seq_len=config.seq_len, dim=config.dim)
    gan = kwgan.GAN(generator, critic, seed=config.seed)
    objective = kwgan.objectives.get(config.objective)
    critic_steps = config.critic_steps
    if critic_steps is None and config.objective == "wgan-gp":
        critic_steps = LANGUAGE_CRITIC_STEPS
    g_opt, d_opt = objective.optimizers(config.beta1 if objective.adam else None)
    gan.compile(
        config.objective,
        generator_optimizer=g_opt,
        critic_optimizer=d_opt,
        schedule=objective.schedule(critic_steps),
        gp_weight=config.gp_weight if objective.gp_weight else None,  # penalised objectives only
    )
    return gan


def dataset(
    config: LanguageConfig, codes: np.ndarray, vocab_size: int, start_batch: int
) -> kwgan.data.text.OneHotBatches:
    """The one-hot training batches from global batch `start_batch` on."""
    return kwgan.data.text.OneHotBatches(
        codes, vocab_size, batch_size=config.batch_size, seed=config.seed, start_batch=start_batch
    )


def sample_writer(config: LanguageConfig, vocabulary: tuple[str, ...]):
    """`write(iteration, codes)`: generated lines, decoded, into
    `samples/samples_<iteration>.txt` (atomically), as `gan_language.py` writes them."""
    from kwgan.io import atomic_path

    def write(iteration: int, codes: np.ndarray) -> None:
        path = os.path.join(config.out, "samples", f"samples_{iteration}.txt")
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in kwgan.data.text.decode(codes, vocabulary))

    return write


def train(
    run: kwgan.run.Run,
    gan: kwgan.GAN,
    config: LanguageConfig,
    codes: np.ndarray,
    vocabulary: tuple[str, ...],
) -> dict:
    """Trains (resuming from the run's checkpoint); returns the stateful callbacks by name
    (the loss history, the evaluations, the stopwatch), whose state covers the whole run."""
    evaluate = evaluators.NgramDivergence(
        codes,
        samples=config.eval_samples,
        seed=config.seed,
        batch_size=config.batch_size,
        on_samples=sample_writer(config, vocabulary),
    )
    stateful = {
        "history": kwgan.callbacks.LossHistory(),
        "evaluation": kwgan.callbacks.EvaluateEvery(
            config.eval_every,
            evaluators.Printed(evaluate),
            log_path=os.path.join(config.out, "evaluations.jsonl"),
        ),
        "stopwatch": kwgan.callbacks.Stopwatch(),
    }
    training.train(
        run,
        gan,
        lambda start: dataset(config, codes, len(vocabulary), start),
        config,
        stateful,
    )
    return stateful


def final_outputs(
    gan: kwgan.GAN,
    config: LanguageConfig,
    codes: np.ndarray,
    vocabulary: tuple[str, ...],
    stateful: dict,
) -> dict:
    """The metrics of metrics.json: the last evaluation beside real text's baseline."""
    history, stopwatch = stateful["history"], stateful["stopwatch"]
    evaluations = stateful["evaluation"].results
    final = evaluations[-1]
    return {
        "config": config.result_fields(),
        "backend": keras.backend.backend(),
        "corpus": {"lines": len(codes), "vocab_size": len(vocabulary)},
        "parameters": {
            "generator": gan.generator.count_params(),
            "critic": gan.critic.count_params(),
        },
        "seconds": stopwatch.seconds,
        "generator_iterations": training.generator_iterations(gan),
        "steady_seconds_per_generator_iteration": stopwatch.steady_seconds_per_generator_iteration,
        "baseline": ngrams.baseline(codes),
        "final": final,
        "final_samples": os.path.join("samples", f"samples_{final['iteration']}.txt"),
        "evaluations": evaluations,
        "logs": {"iterations": history.iterations, **history.history},
    }


def write_outputs(config: LanguageConfig, metrics: dict) -> None:
    """metrics.json and js.png, each written atomically."""
    from kwgan.io import write_json

    write_json(os.path.join(config.out, training.METRICS_FILE), metrics)
    lines = metrics["corpus"]["lines"]
    title = (
        f"{config.objective}, width {config.dim}, {lines} lines of {config.text or config.corpus}"
    )
    kwgan.plots.ngram_divergence_curves(
        metrics["evaluations"],
        metrics["baseline"],
        os.path.join(config.out, "js.png"),
        title=title,
    )


def summary(metrics: dict) -> str:
    """What the command line prints at the end: each divergence beside real text's."""
    final, baseline = metrics["final"], metrics["baseline"]
    scores = ", ".join(f"{k} {final[k]:.3f} (real {baseline[k]:.3f})" for k in baseline)
    return (
        f"after {metrics['generator_iterations']} generator iterations: {scores}; "
        f"{metrics['seconds']:.0f}s"
    )


def run(config: LanguageConfig) -> dict | None:
    """Reads the corpus (a missing one fails before `run.json` exists), trains `config`
    (resuming `config.out`), writes its outputs, prints a summary; returns its
    metrics.json (also for a run that had already finished)."""
    codes, vocabulary = load_corpus(config)
    check_corpus_size(config, codes)
    source = config.text or config.corpus
    data = {"train": kwgan.data.text.describe(codes, vocabulary, source=source)}
    print(kwgan.data.fingerprint.summary(data))

    def train_and_write(run: kwgan.run.Run) -> int:
        gan = build_gan(config, len(vocabulary))
        stateful = train(run, gan, config, codes, vocabulary)
        metrics = final_outputs(gan, config, codes, vocabulary, stateful)
        write_outputs(config, metrics)
        print(summary(metrics))
        return metrics["generator_iterations"]

    return training.resumable(config, train_and_write, data=data)
