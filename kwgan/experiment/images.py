"""The papers' image experiments: any architecture × any objective on any image dataset.

`ImageConfig` holds one run's settings with the papers' defaults (the WGAN paper's §4 LSUN
bedrooms at 64×64; each objective with its paper's hyperparameters, `kwgan.objectives`), and
`run(config)` trains it resumably and writes its outputs into `config.out`:

* `samples.png` (and `samples_<it>.png` every `sample_every` generator iterations);
* `samples.npy`: `num_samples` images, float32 NHWC in [−1, 1];
* `metrics.json`: the config, timings, parameter counts, the digits report (digits only),
  the evaluations (`eval_every`: the digits score; `fid_every`: FID, KID, precision,
  recall, density, coverage), the final ones (`fid_samples` samples against the test
  split's `real_images`) and every logged loss;
* `w_estimate.png` (Wasserstein objectives), `gan.keras`, `run.json` (the config and the
  data read, `describe_data`), `checkpoints/`, and with `export` a TensorFlow SavedModel of
  the generator.

Rerunning into the same `out` resumes where a killed run stopped and ends exactly as the
uninterrupted run would; a larger `steps` continues a finished run. Steps are *generator*
iterations, as in the papers. `experiments/lsun.py` is this module's command line and
`experiments/digits.py` its quickstart preset (`kwgan.experiment.presets.digits`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any

import keras
import numpy as np

import kwgan
from kwgan.errors import ConfigError, ResumeError
from kwgan.experiment import training
from kwgan.experiment.config import (
    Config,
    checkpoint_option,
    option,
    out_option,
    seed_option,
    time_limit_option,
)
from kwgan.metrics import evaluators, manifold
from kwgan.penalties import PENALTIES

OPTIMIZERS = ("adam", "rmsprop")
TIME_LIMIT_OVER_PROCESSES = (
    "max_minutes would stop each process by its own clock, and processes that stop at "
    "different steps wait for each other forever; over several processes, stop the run by "
    "killing it and rerun the command to resume."
)
# How the process flags go together: one JAX run over several processes needs all three.
PROCESS_FIELDS = ("coordinator", "num_processes", "process_id")


def _architectures() -> tuple[str, ...]:
    return kwgan.architectures.NAMES


def _objectives() -> tuple[str, ...]:
    return tuple(kwgan.objectives.OBJECTIVES)


def _datasets() -> tuple[str, ...]:
    return kwgan.data.IMAGE_DATASETS


@dataclasses.dataclass(frozen=True)
class ImageConfig(Config):
    """One image run (WGAN §4, WGAN-GP Fig. 2 and §5.3, Lucic et al.'s Fashion-MNIST)."""

    arch: str = option("dcgan", "Architecture (kwgan.architectures).", choices=_architectures)
    objective: str = option(
        "wgan-gp", "Objective, with its paper's hyperparameters.", choices=_objectives
    )
    dataset: str = option(
        "lsun/bedroom",
        "Dataset ((fashion_)mnist from idx files too: apt-get install dataset-fashion-mnist; "
        "folder: --data_dir's images).",
        choices=_datasets,
    )
    data_dir: str | None = option(
        None,
        "tensorflow-datasets directory (also searched for (fashion_)mnist idx files), or the "
        "image folder for --dataset folder.",
        free=True,
    )
    download: bool = option(
        False, "Let tensorflow-datasets download and prepare the dataset.", free=True
    )
    image_size: int = option(64, "Image size (pixels, square).", minimum=1)
    channels: int | None = option(
        None, "Image channels (dataset default: 1 for (fashion_)mnist/digits, else 3).", minimum=1
    )
    latent_dim: int | None = option(
        None, "Noise size (architecture default, 128 or 100).", minimum=1
    )
    dim: int | None = option(None, "Base width of both networks (architecture default).", minimum=1)
    generator_dim: int | None = option(
        None, "Base width of the generator (overrides --dim).", minimum=1
    )
    critic_dim: int | None = option(None, "Base width of the critic (overrides --dim).", minimum=1)
    steps: int = option(200_000, "Generator iterations.", minimum=1)
    batch_size: int = option(
        64,
        "Batch size: the global batch, split across the devices by --distribute.",
        minimum=1,
    )
    critic_steps: int | None = option(
        None, "Critic iterations per generator iteration (objective default).", minimum=1
    )
    optimizer: str | None = option(
        None,
        "Optimizer of both networks, at the objective's learning rate and β (default: the "
        "objective's; WGAN-GP Fig. 3 also trains wgan-gp with rmsprop).",
        choices=OPTIMIZERS,
    )
    beta1: float | None = option(
        None,
        "Adam β1, ignored under RMSProp (default: the objective's, 0 for wgan-gp, 0.5 for dcgan).",
    )
    penalty: str = option(
        "two-sided",
        "Gradient penalty of wgan-gp: two-sided (the paper's) or one-sided, max(0, |g| - 1)^2 "
        "(its Appendix C).",
        choices=PENALTIES,
    )
    conditional: bool = option(
        False,
        "Class-conditional model (cifar-resnet: conditional batch norm + AC-GAN head) on a "
        "labelled dataset.",
    )
    lr: float | None = option(
        None, "Learning rate of both optimizers (default: the objective's).", minimum=0
    )
    critic_lr: float | None = option(
        None,
        "Learning rate of the critic's optimizer (overrides --lr; two time-scale updates).",
        minimum=0,
    )
    lr_decay: bool = option(
        False, "Decay both learning rates linearly to 0 over --steps, as gan_cifar_resnet.py."
    )
    ema_decay: float | None = option(
        None,
        "Sample, score and export an exponential moving average of the generator's weights "
        "with this decay per generator iteration (e.g. 0.999; BigGAN and StudioGAN use "
        "0.9999; with fid_samples, metrics.json 'fid_raw' scores the raw generator as "
        "well); default: the raw generator.",
    )
    ema_start: int = option(
        1000,
        "Generator iterations before the average starts (it copies the weights until then: "
        "an average from the initial weights keeps them for long).",
        minimum=0,
    )
    eval_every: int | None = option(
        None,
        "Digits: score 1000 samples every this many generator iterations (metrics.json "
        "'evaluations').",
        minimum=1,
    )
    fid_samples: int | None = option(
        None,
        "After training, FID and KID of this many samples against the dataset's test split, "
        "with precision, recall, density and coverage in the same features (metrics.json "
        "'fid'; needs the FID Inception weights; at least 6, the k = 5 neighbours of "
        "density and coverage plus the point itself).",
        minimum=manifold.DENSITY_COVERAGE_K + 1,
    )
    compare_sampling: bool = option(
        False,
        "After training, also score (as fid_samples) the four ways to sample: the raw and the "
        "averaged generator, each with the moving and with standing batch-norm statistics, "
        "and the raw one with batch statistics (metrics.json 'sampling'; needs fid_samples "
        "and ema_decay).",
    )
    fid_every: int | None = option(
        None,
        "Also FID, KID, precision, recall, density and coverage of --fid_samples samples "
        "every this many generator iterations (metrics.json 'fid_evaluations').",
        minimum=1,
    )
    fid_every_samples: int | None = option(
        None,
        "Samples scored at each --fid_every evaluation (default: --fid_samples): a curve of "
        "a few thousand beside a final score of 10 000 costs a fifth of the Inception time.",
        minimum=manifold.DENSITY_COVERAGE_K + 1,
    )
    warmup: bool | None = option(
        None, "WGAN repo's 100-critic-iteration warm-up (default: on for wgan)."
    )
    seed: int = seed_option("Seed of weights, noise and data order.")
    precision: str = option(
        "auto",
        "Numeric precision: auto (mixed_bfloat16 where the hardware multiplies bfloat16 "
        "natively: a GPU's bf16 tensor cores, a CPU's AMX / AVX-512 BF16 units on TensorFlow "
        "or torch; float32 elsewhere), float32, or mixed_bfloat16 (bfloat16 matrix products, "
        "float32 weights and penalty); a run records what auto resolved to.",
        choices=kwgan.precision.PRECISIONS,
    )
    sample_every: int = option(
        500, "Write a sample grid every this many generator iterations.", free=True, minimum=1
    )
    checkpoint_every: int = checkpoint_option(500)
    num_samples: int = option(1000, "Images in samples.npy.", minimum=1)
    max_minutes: float | None = time_limit_option()
    out: str = out_option("runs/lsun")
    export: str | None = option(
        None, "Also export the generator as a SavedModel to this directory.", free=True
    )
    tensorboard: str | None = option(
        None,
        "Also log the losses per generator iteration, the sample grids and the evaluations "
        "to this TensorBoard log directory.",
        free=True,
    )
    # A run may go on over other devices at the same global batch (--batch_size), which
    # trains the same model (up to float rounding; under TensorFlow batch norm normalises
    # each device's slice of the batch): the device fields are free.
    distribute: bool = option(
        False,
        "Train data-parallel over every device of every process (kwgan.distribute; JAX and "
        "TensorFlow; several TensorFlow hosts through TF_CONFIG).",
        free=True,
    )
    coordinator: str | None = option(
        None,
        "JAX over several processes: HOST:PORT of process 0's coordinator, the same for all "
        "(with --distribute, --num_processes and --process_id).",
        free=True,
    )
    num_processes: int | None = option(
        None, "JAX over several processes: how many train together.", free=True, minimum=1
    )
    process_id: int | None = option(
        None,
        "JAX over several processes: this one's index, 0 … --num_processes − 1 (0 writes --out).",
        free=True,
        minimum=0,
    )

    @property
    def target_may_grow(self) -> bool:
        # A learning rate decaying to 0 at --steps makes --steps part of the training.
        return not self.lr_decay

    @property
    def info(self):
        """The dataset's facts (`kwgan.data.DatasetInfo`)."""
        return kwgan.data.dataset_info(self.dataset)

    @property
    def image_channels(self) -> int:
        return self.channels or self.info.channels

    def objective_spec(self) -> kwgan.objectives.Objective:
        """The objective with this run's optimizer family."""
        objective = kwgan.objectives.get(self.objective)
        return objective.with_optimizer(self.optimizer) if self.optimizer else objective

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        # A run recorded before `precision` existed trained in float32, then kwgan's only
        # precision; `auto` is the default of the runs started since.
        return {**super().defaults(), "precision": "float32"}

    def validate(self) -> None:
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise ConfigError(f"ema_decay must be in (0, 1), got {self.ema_decay}.")
        if self.penalty != "two-sided" and not self.objective_spec().gp_weight:
            raise ConfigError(
                f"penalty {self.penalty!r} shapes the gradient penalty, which only wgan-gp has "
                f"(objective is {self.objective!r})."
            )
        if self.eval_every and self.dataset != "digits":
            raise ConfigError("eval_every scores digits only (the classifier is a digits one).")
        if self.dataset == "digits" and self.num_samples < 10:
            raise ConfigError(
                "num_samples must be >= 10 on the digits: the score averages over 10 splits."
            )
        if self.compare_sampling and not (self.fid_samples and self.ema_decay):
            raise ConfigError("compare_sampling needs fid_samples and ema_decay.")
        if self.fid_every and not self.fid_samples:
            raise ConfigError("fid_every needs fid_samples (how many to score).")
        if self.fid_every_samples and not self.fid_every:
            raise ConfigError("fid_every_samples needs fid_every (when to score them).")
        if self.fid_samples and not self.info.has_test_split:
            with_test = [n for n in _datasets() if kwgan.data.dataset_info(n).has_test_split]
            raise ConfigError(
                f"fid_samples scores against the dataset's test split, which {self.dataset} "
                f"does not have; use it with {', '.join(with_test)}."
            )
        if self.fid_samples and self.distribute:
            raise ConfigError(
                "fid_samples does not run data-parallel yet: train with distribute, then "
                "score samples.npy on one device (kwgan.metrics.inception.features, "
                "kwgan.metrics.real_statistics, kwgan.metrics.fid_score)."
            )
        self._validate_processes()

    def _validate_processes(self) -> None:
        given = [name for name in PROCESS_FIELDS if getattr(self, name) is not None]
        if not given:
            return
        if not self.distribute:
            raise ConfigError(f"{given[0]} trains over several processes: add distribute.")
        if len(given) < len(PROCESS_FIELDS):
            raise ConfigError(
                "coordinator, num_processes and process_id go together: pass all three to "
                "every process."
            )
        if self.max_minutes and self.num_processes > 1:
            raise ConfigError(TIME_LIMIT_OVER_PROCESSES)
        if self.process_id >= self.num_processes:
            raise ConfigError(
                f"process_id {self.process_id} is not one of the num_processes "
                f"{self.num_processes} processes (0 … {self.num_processes - 1})."
            )


def check_environment(config: ImageConfig) -> None:
    """What the config needs from this installation, checked before anything trains:
    TensorFlow for an export, the FID weights for FID, a backend for the process fields."""
    if config.export:
        kwgan.export.require_tensorflow()
    if config.fid_samples:
        kwgan.metrics.inception.load_weights()
    if config.coordinator is not None and keras.backend.backend() == "tensorflow":
        raise ConfigError(
            "TensorFlow trains over several processes through TF_CONFIG, set in each worker's "
            'environment (see the README\'s "Scaling out"); coordinator, num_processes and '
            "process_id are for JAX."
        )


def distribute(config: ImageConfig) -> None:
    """Turns on data parallelism as the config asks. Called before anything else runs JAX
    or TensorFlow: jax.distributed and TensorFlow's multi-worker strategy must start first."""
    if not config.distribute:
        return
    kwgan.distribute.data_parallel(
        job_addresses=config.coordinator,
        num_processes=config.num_processes,
        process_id=config.process_id,
    )
    devices = kwgan.distribute.num_replicas()
    if config.batch_size % devices:
        raise ConfigError(
            f"batch_size {config.batch_size} (the global batch) does not divide among the "
            f"{devices} devices training it; pass a multiple of {devices}."
        )
    if config.max_minutes and kwgan.distribute.several_processes():  # TF_CONFIG workers
        raise ConfigError(TIME_LIMIT_OVER_PROCESSES)


def build_gan(config: ImageConfig) -> kwgan.GAN:
    """The compiled GAN: the architecture at the config's sizes, the objective with its
    paper's optimizers unless the config overrides them."""
    keras.utils.set_random_seed(config.seed)
    options = {"conditional": True, "acgan": True} if config.conditional else {}
    with kwgan.precision.policy(config.precision):
        generator, critic = kwgan.architectures.build(
            config.arch,
            image_size=config.image_size,
            channels=config.image_channels,
            latent_dim=config.latent_dim,
            objective=config.objective,
            dim=config.dim,
            generator_dim=config.generator_dim,
            critic_dim=config.critic_dim,
            **options,
        )
        average = (
            None
            if config.ema_decay is None
            else kwgan.GeneratorAverage(config.ema_decay, start=config.ema_start)
        )
        gan = kwgan.GAN(generator, critic, seed=config.seed, average=average)
    objective = config.objective_spec()
    schedule = objective.schedule(config.critic_steps, config.warmup)
    decay = (config.steps, schedule.total_critic_steps(config.steps)) if config.lr_decay else None
    g_opt, d_opt = objective.optimizers(
        config.beta1 if objective.adam else None,
        learning_rate=config.lr,
        critic_learning_rate=config.critic_lr,
        decay_steps=decay,
    )
    gan.compile(
        config.objective,
        generator_optimizer=g_opt,
        critic_optimizer=d_opt,
        schedule=schedule,
        penalty=config.penalty,
    )
    return gan


def dataset(config: ImageConfig, start_batch: int) -> Any:
    """The training batches from global batch `start_batch` on: a tf.data stream where
    TensorFlow is installed, an in-memory PyDataset otherwise; over several JAX processes,
    this process's rows of each."""
    import importlib.util

    shard = kwgan.distribute.process_shard()
    kwargs = dict(
        image_size=config.image_size,
        data_dir=config.data_dir,
        channels=config.channels,
        with_labels=config.conditional,
    )
    if importlib.util.find_spec("tensorflow") is None:
        arrays = kwgan.data.image_array(config.dataset, download=config.download, **kwargs)
        arrays = arrays if config.conditional else (arrays,)
        return kwgan.data.ImageBatches(
            *arrays,
            batch_size=config.batch_size,
            seed=config.seed,
            start_batch=start_batch,
            shard=shard,
        )
    return kwgan.data.images(
        config.dataset,
        batch_size=config.batch_size,
        download=config.download,
        seed=config.seed,
        cache=config.info.fits_in_memory,
        start_batch=start_batch,
        shard=shard,
        **kwargs,
    )


def fid_evaluator(config: ImageConfig, samples: int | None = None) -> evaluators.FrechetInception:
    """FID and KID of `samples` (by default `fid_samples`) samples against the test split
    (the same noise at every iteration)."""
    return evaluators.FrechetInception(
        config.dataset,
        image_size=config.image_size,
        samples=samples or config.fid_samples,
        seed=config.seed,
        channels=config.channels,
        data_dir=config.data_dir,
    )


def sample_grid(config: ImageConfig, board: kwgan.tensorboard.TensorBoard | None):
    """The SampleGrid callback; with a TensorBoard `board`, each grid it writes is also
    logged there as the image `samples` at its generator iteration."""
    if board is None:
        return kwgan.callbacks.SampleGrid(config.out, every=config.sample_every, seed=config.seed)
    return LoggedSampleGrid(board, config.out, every=config.sample_every, seed=config.seed)


class LoggedSampleGrid(kwgan.callbacks.SampleGrid):
    """A `SampleGrid` that also logs each grid it writes to a TensorBoard."""

    def __init__(self, board: kwgan.tensorboard.TensorBoard, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.board = board

    def write(self, iteration: int) -> None:
        from PIL import Image

        super().write(iteration)
        with Image.open(os.path.join(self.directory, "samples.png")) as grid:
            self.board.image("samples", np.asarray(grid), iteration)


def train(run: kwgan.run.Run, gan: kwgan.GAN, config: ImageConfig) -> dict:
    """Trains (resuming from the run's checkpoint); returns the stateful callbacks by name
    (the W-estimate curve, the stopwatch, the evaluations where on), whose state covers
    the whole run."""
    title = f"{config.arch} / {config.objective} on {config.dataset}"
    stateful = {
        "curve": kwgan.callbacks.WEstimateCurve(
            os.path.join(config.out, "w_estimate.png"), title=title
        ),
        "stopwatch": kwgan.callbacks.Stopwatch(),
    }
    # Only where files are written: LoggedSampleGrid logs the samples.png written there.
    logs = config.tensorboard and kwgan.distribute.is_chief()
    board = kwgan.tensorboard.TensorBoard(config.tensorboard) if logs else None
    if config.eval_every:
        evaluate = evaluators.DigitsScore(config.seed)
        evaluate = board.logged(evaluate) if board else evaluate
        evaluate = evaluators.Timed(evaluate, stateful["stopwatch"])
        stateful["evaluations"] = kwgan.callbacks.EvaluateEvery(config.eval_every, evaluate)
    if config.fid_every:
        evaluate = fid_evaluator(config, config.fid_every_samples)
        evaluate = board.logged(evaluate, prefix="fid/") if board else evaluate
        stateful["fid_evaluations"] = kwgan.callbacks.EvaluateEvery(config.fid_every, evaluate)
    training.train(
        run,
        gan,
        lambda start: dataset(config, start),
        config,
        stateful,
        first=[sample_grid(config, board)],
        last=[board] if board else [],
    )
    return stateful


def digits_report(config: ImageConfig, samples: np.ndarray, labels: np.ndarray | None) -> dict:
    """The digits classifier's report of the final samples, beside real digits' (digits
    only: the classifier is a digits one)."""
    if config.dataset != "digits":
        return {}
    real = kwgan.data.image_array("digits", image_size=config.image_size, channels=1)
    report = kwgan.metrics.digits_report(evaluators.as_shown(samples), real=real, labels=labels)
    return {
        "digits": {
            k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in report.items()
        }
    }


def final_outputs(gan: kwgan.GAN, config: ImageConfig, stateful: dict) -> tuple[np.ndarray, dict]:
    """The samples of samples.npy and the metrics of metrics.json. Every process of a
    data-parallel run computes them: generating runs on all the run's devices."""
    noise = evaluators.noise(config.seed + 1, config.num_samples, gan.latent_dim)
    labels = gan.class_cycle(config.num_samples)  # kept to score label accuracy
    samples = gan.generate(noise, labels=labels, batch_size=evaluators.GENERATE_BATCH)
    iterations = training.generator_iterations(gan)
    curve, stopwatch = stateful["curve"], stateful["stopwatch"]
    evaluations = {
        name: stateful[name].results
        for name in ("evaluations", "fid_evaluations")
        if name in stateful
    }
    final_fid = {}
    if config.fid_samples:
        evaluate = fid_evaluator(config)
        final = evaluated_at(evaluations.get("fid_evaluations", []), iterations)
        if final is None or final["fid_samples"] != config.fid_samples:
            final = evaluate(gan, iterations)
        final_fid = {"fid": {**final, "fid_samples": config.fid_samples}}
        if config.compare_sampling:
            final_fid["sampling"] = compare_sampling(gan, evaluate, final)
        if gan.average is not None:  # one run gives both rows (raw, averaged): issue 21
            final_fid["fid_raw"] = (
                final_fid["sampling"]["raw, moving statistics"]
                if config.compare_sampling
                else evaluate.score(gan, averaged=False)
            )
    metrics = {
        "config": config.result_fields(),
        "backend": keras.backend.backend(),
        "devices": kwgan.distribute.num_replicas(),
        "generator_iterations": iterations,
        "seconds": stopwatch.seconds,
        "steady_seconds_per_generator_iteration": stopwatch.steady_seconds_per_generator_iteration,
        "parameters": {
            "generator": gan.generator.count_params(),
            "critic": gan.critic.count_params(),
        },
        **digits_report(config, samples, labels),
        **evaluations,
        **final_fid,
        "logs": {"iterations": curve.iterations, **curve.history},
    }
    return samples, metrics


def evaluated_at(results: list[dict], iteration: int) -> dict | None:
    """The periodic evaluation of `results` made at `iteration`, without its iteration, or
    None. A run whose `fid_every` divides its steps scored its final generator at the last
    one, from the noise the final score draws: where it scored as many samples, that result
    is the final score, rather than a second Inception pass (~15 minutes for 10 000 samples
    on a CPU)."""
    for result in results:
        if result["iteration"] == iteration:
            return {k: v for k, v in result.items() if k != "iteration"}
    return None


# The ways to sample a GAN that keeps a generator average (issue 21: which one evaluation
# and export should use): (averaged, batch-norm statistics) by name.
SAMPLING = {
    "raw, moving statistics": (False, "moving"),
    "raw, batch statistics": (False, "batch"),
    "raw, standing statistics": (False, "standing"),
    "averaged, averaged statistics": (True, "moving"),
    "averaged, standing statistics": (True, "standing"),
}


def compare_sampling(gan: kwgan.GAN, evaluate: evaluators.FrechetInception, default: dict) -> dict:
    """`evaluate`'s numbers for each way to sample in `SAMPLING`, from the same noise
    against the same real set: the raw generator as `generate` used to sample and as the
    references sample (batch statistics), and the average with the statistics averaged
    alongside its weights or recomputed for them (BigGAN's standing statistics). `default`
    is `evaluate(gan, ...)`, the numbers of the way `generate` samples a GAN with an average
    (averaged, moving statistics), reused rather than measured again."""
    return {
        name: default
        if (averaged, statistics) == (True, "moving")
        else evaluate.score(gan, averaged=averaged, statistics=statistics)
        for name, (averaged, statistics) in SAMPLING.items()
    }


def write_outputs(gan: kwgan.GAN, config: ImageConfig, samples: np.ndarray, metrics: dict) -> None:
    """samples.npy, gan.keras, metrics.json and the export, each written atomically."""
    from kwgan.io import atomic_path, write_json

    with atomic_path(os.path.join(config.out, "samples.npy"), suffix=".npy") as tmp:
        np.save(tmp, samples)
    with atomic_path(os.path.join(config.out, "gan.keras"), suffix=".keras") as tmp:
        gan.save(tmp)
    write_json(os.path.join(config.out, training.METRICS_FILE), metrics)
    if config.export:
        kwgan.export.export_generator(
            gan,  # the generator average, where the GAN keeps one
            config.export,
            metadata=export_metadata(config, metrics),
        )


def export_metadata(config: ImageConfig, metrics: dict) -> dict:
    """What an exported generator says about itself (`kwgan.json`): the objective, the
    whole recipe (every field that shapes the result), the iterations trained and, where
    the run scored it, the FID and KID its exported weights (the average, where kept) reach,
    with both set sizes, so a served model carries the number it is known by."""
    scores = {}
    if "fid" in metrics:
        fid = metrics["fid"]
        scores["fid"] = {key: fid[key] for key in ("fid", "kid", "fid_samples", "real_images")}
    return {
        "objective": config.objective,
        "architecture": config.arch,
        "dataset": config.dataset,
        "generator_iterations": metrics["generator_iterations"],
        "recipe": config.result_fields(),
        **scores,
    }


def summary(config: ImageConfig, metrics: dict) -> str:
    """What the command line prints at the end: iterations, time, and the scores."""
    lines = [
        f"\n{metrics['generator_iterations']} generator iterations in "
        f"{metrics['seconds']:.0f}s; outputs in {config.out}"
    ]
    if "digits" in metrics:
        d = metrics["digits"]
        lines.append(
            f"digit score {d['score']:.2f} (real {d['real_score']:.2f}), "
            f"Fréchet {d['fd']:.2f} (real-vs-real {d['real_fd']:.2f})"
        )
    if "fid" in metrics:
        f = metrics["fid"]
        kid_mean, kid_std = f["kid"]
        lines.append(
            f"FID {f['fid']:.2f}, KID {kid_mean:.4f} ± {kid_std:.4f} ({f['fid_samples']} samples)"
        )
        if "precision" in f:  # fidelity (precision, density) and diversity apart
            lines.append(
                f"precision {f['precision']:.3f}, recall {f['recall']:.3f}, "
                f"density {f['density']:.3f}, coverage {f['coverage']:.3f}"
            )
    for name, m in metrics.get("sampling", {}).items():
        lines.append(f"  {name}: FID {m['fid']:.2f}, KID {m['kid'][0]:.4f}")
    return "\n".join(lines)


def describe_data(config: ImageConfig) -> dict:
    """What the run reads (`kwgan.data.describe`): the training split, and with FID the test
    split it is measured against, whose size is checked here (`check_fid_sizes`), before
    anything trains, where its files tell it cheaply."""
    splits = ("train", "test") if config.fid_samples else ("train",)
    data = {
        split: kwgan.data.describe(
            config.dataset, split=split, data_dir=config.data_dir, download=config.download
        )
        for split in splits
    }
    for setting in ("fid_samples", "fid_every_samples"):
        if getattr(config, setting):
            check_test_split(data["test"], getattr(config, setting), setting)
    return data


def check_test_split(test: dict, samples: int, setting: str = "fid_samples") -> None:
    """Refuses scoring `samples` samples against the test split `test` describes
    (`kwgan.data.describe`) where its files say it holds fewer images (`setting`: what the
    user set the count with)."""
    if test["examples"] is not None:
        where = f"the test split of {test['dataset']!r} in {test['source']}"
        evaluators.check_fid_sizes(samples, test["examples"], where, setting)


def run(config: ImageConfig) -> dict | None:
    """Trains `config` (resuming `config.out`), writes its outputs, prints a summary;
    returns its metrics.json (also for a run that had already finished, which `export`s its
    saved GAN where given: `export_finished`)."""
    # Recorded resolved, so that a resume on hardware where `auto` means another precision
    # is refused, naming the field.
    config = config.replace(precision=kwgan.precision.resolve(config.precision))
    check_environment(config)
    distribute(config)
    data = describe_data(config)  # after `distribute`: reading may start TensorFlow
    print(kwgan.data.fingerprint.summary(data))

    def train_and_write(run: kwgan.run.Run) -> int:
        gan = build_gan(config)
        stateful = train(run, gan, config)
        samples, metrics = final_outputs(gan, config, stateful)
        kwgan.distribute.chief_only(write_outputs)(gan, config, samples, metrics)
        print(summary(config, metrics))
        return metrics["generator_iterations"]

    export = kwgan.distribute.chief_only(export_finished)
    finished = functools.partial(export, config) if config.export else None
    return training.resumable(config, train_and_write, data=data, finished=finished)


def export_finished(config: ImageConfig) -> None:
    """`--export` given to a run that had already finished: its `gan.keras` (the generator
    average where kept) is exported with the metadata the run would have written, so that a
    forgotten `--export` costs a load rather than the training again (`export` is free)."""
    metrics = training.read_metrics(config.out)
    path = os.path.join(config.out, "gan.keras")
    present = {"metrics.json": metrics is not None, "gan.keras": os.path.isfile(path)}
    missing = [name for name, there in present.items() if not there]
    if missing:
        raise ResumeError(
            f"{config.out} holds a finished run without its {' and '.join(missing)}, so "
            "--export has nothing to export: train again into a new --out."
        )
    gan = keras.saving.load_model(path)
    kwgan.export.export_generator(gan, config.export, metadata=export_metadata(config, metrics))
    print(f"exported the finished run's generator to {config.export}")
