"""The papers' image experiments: any architecture × any objective, on LSUN and friends.

Reproduces the WGAN paper's §4 experiments (LSUN bedrooms 64×64: DCGAN, no-BN, MLP
generators; `--objective wgan` versus the `dcgan` baseline) and the WGAN-GP paper's Fig. 2
matrix (six architectures × four objectives), each objective with its paper's
hyperparameters (see `kwgan.objectives`; --optimizer, --lr, --critic_lr, --lr_decay and
--beta1 depart from them on request). `experiments/loss_meaning.py` and
`experiments/convergence.py` compare several such runs (WGAN Figs. 3, 4, 8; WGAN-GP Fig. 3).
Steps are *generator* iterations, as in the papers.
`--conditional` trains the CIFAR ResNet's class-conditional AC-GAN on a labelled dataset.

    python experiments/lsun.py --arch dcgan --objective wgan-gp --steps 200000 --out runs/lsun
    python experiments/lsun.py --dataset cifar10 --image_size 32 --arch cifar-resnet \
        --out runs/cifar
    python experiments/lsun.py --dataset digits --image_size 32 --arch cifar-dcgan --dim 32 \
        --out runs/digits

`--fid_samples N` scores N samples by FID and KID (Heusel et al. 2017; Bińkowski et al. 2018)
against the dataset's test split, as compare_gan (Lucic et al. 2018) compares objectives on
a fixed architecture (`--arch infogan` for (Fashion-)MNIST); `--fid_every K` also does so
during training.

`--distribute` trains data-parallel over every local device, and with --coordinator,
--num_processes and --process_id (JAX) or TF_CONFIG (TensorFlow) over several hosts; see the
README's "Scaling out". --batch_size is the global batch either way.

    KERAS_BACKEND=jax python experiments/lsun.py --distribute --batch_size 256 --out runs/lsun

Writes into --out: samples.png (and samples_*.png during training), samples.npy (≥ 1000 images,
float32 NHWC in [−1, 1]), metrics.json, w_estimate.png (Wasserstein objectives), gan.keras,
run.json (the flags), checkpoints/, and with --export a TensorFlow SavedModel of the
generator. Rerunning with the same --out resumes where a killed run stopped and ends exactly
as the uninterrupted run would; a larger --steps continues a finished run.
"""

from __future__ import annotations

import functools
import os
import sys

from absl import flags

flags.DEFINE_string("arch", "dcgan", "Architecture (kwgan.architectures.NAMES).")
flags.DEFINE_enum(
    "objective",
    "wgan-gp",
    ["wgan", "wgan-gp", "dcgan", "lsgan"],
    "Objective, with its paper's hyperparameters.",
)
flags.DEFINE_string(
    "dataset",
    "lsun/bedroom",
    "lsun/bedroom, cifar10, mnist, fashion_mnist (apt-get install dataset-fashion-mnist), "
    "digits or folder.",
)
flags.DEFINE_string(
    "data_dir",
    None,
    "tensorflow-datasets directory (also searched for (fashion_)mnist idx files), or the image "
    "folder for --dataset folder.",
)
flags.DEFINE_boolean("download", False, "Let tensorflow-datasets download and prepare the dataset.")
flags.DEFINE_integer("image_size", 64, "Image size (pixels, square).")
flags.DEFINE_integer(
    "channels", None, "Image channels (dataset default: 1 for (fashion_)mnist/digits, else 3)."
)
flags.DEFINE_integer("latent_dim", None, "Noise size (architecture default, 128 or 100).")
flags.DEFINE_integer("dim", None, "Base width of both networks (architecture default).")
flags.DEFINE_integer("generator_dim", None, "Base width of the generator (overrides --dim).")
flags.DEFINE_integer("critic_dim", None, "Base width of the critic (overrides --dim).")
flags.DEFINE_integer("steps", 200_000, "Generator iterations.")
flags.DEFINE_integer(
    "batch_size", 64, "Batch size: the global batch, split across the devices by --distribute."
)
flags.DEFINE_integer(
    "critic_steps", None, "Critic iterations per generator iteration (objective default)."
)
flags.DEFINE_enum(
    "optimizer",
    None,
    ["adam", "rmsprop"],
    "Optimizer of both networks, at the objective's learning rate and β (default: the "
    "objective's; WGAN-GP Fig. 3 also trains wgan-gp with rmsprop).",
)
flags.DEFINE_float(
    "beta1",
    None,
    "Adam β1, ignored under RMSProp (default: the objective's, 0 for wgan-gp, 0.5 for dcgan).",
)
flags.DEFINE_boolean(
    "conditional",
    False,
    "Class-conditional model (cifar-resnet: conditional batch norm + AC-GAN head) "
    "on a labelled dataset.",
)
flags.DEFINE_float("lr", None, "Learning rate of both optimizers (default: the objective's).")
flags.DEFINE_float(
    "critic_lr",
    None,
    "Learning rate of the critic's optimizer (overrides --lr; two time-scale updates).",
)
flags.DEFINE_boolean(
    "lr_decay",
    False,
    "Decay both learning rates linearly to 0 over --steps, as gan_cifar_resnet.py does.",
)
flags.DEFINE_integer(
    "eval_every",
    None,
    "Digits: score 1000 samples every this many generator iterations (metrics.json 'evaluations').",
)
flags.DEFINE_integer(
    "fid_samples",
    None,
    "After training, FID and KID of this many samples against the dataset's test split "
    "(metrics.json 'fid'; needs the FID Inception weights).",
    lower_bound=2,
)
flags.DEFINE_integer(
    "fid_every",
    None,
    "Also FID and KID of --fid_samples samples every this many generator iterations "
    "(metrics.json 'fid_evaluations').",
    lower_bound=1,
)
flags.DEFINE_boolean(
    "warmup", None, "WGAN repo's 100-critic-iteration warm-up (default: on for wgan)."
)
flags.DEFINE_integer("seed", 0, "Seed of weights, noise and data order.")
flags.DEFINE_integer(
    "sample_every", 500, "Write a sample grid every this many generator iterations."
)
flags.DEFINE_integer(
    "checkpoint_every",
    500,
    "Checkpoint every this many critic iterations (fit steps).",
    lower_bound=1,
)
flags.DEFINE_integer("num_samples", 1000, "Images in samples.npy.", lower_bound=1)
flags.DEFINE_float(
    "max_minutes",
    None,
    "Stop (and sample, score, save) after this much wall time; rerun to continue.",
)
flags.DEFINE_string("out", "runs/lsun", "Output directory (a rerun resumes it).")
flags.DEFINE_string("export", None, "Also export the generator as a SavedModel to this directory.")
flags.DEFINE_string(
    "tensorboard",
    None,
    "Also log the losses per generator iteration, the sample grids and the digits "
    "evaluations to this TensorBoard log directory.",
)
flags.DEFINE_boolean(
    "distribute",
    False,
    "Train data-parallel over every device of every process (kwgan.distribute; JAX and "
    "TensorFlow; several TensorFlow hosts through TF_CONFIG).",
)
flags.DEFINE_string(
    "coordinator",
    None,
    "JAX over several processes: HOST:PORT of process 0's coordinator, the same for all "
    "(with --distribute, --num_processes and --process_id).",
)
flags.DEFINE_integer(
    "num_processes", None, "JAX over several processes: how many train together.", lower_bound=1
)
flags.DEFINE_integer(
    "process_id",
    None,
    "JAX over several processes: this one's index, 0 … --num_processes − 1 (0 writes --out).",
    lower_bound=0,
)
FLAGS = flags.FLAGS


# The datasets whose "test" split FID and KID are measured against, as Lucic et al. (2018) do.
WITH_TEST_SPLIT = ("mnist", "fashion_mnist", "cifar10")

# Flags that change no result, so a resumed run may change them (--steps may grow). The
# device and process flags are among them: a run may go on over other devices at the same
# global batch (--batch_size), which trains the same model (up to float rounding; under
# TensorFlow batch norm normalises each device's slice of the batch).
FREE_FLAGS = (
    "out",
    "max_minutes",
    "checkpoint_every",
    "sample_every",
    "export",
    "data_dir",
    "download",
    "tensorboard",
    "distribute",
    "coordinator",
    "num_processes",
    "process_id",
)
PROCESS_FLAGS = ("coordinator", "num_processes", "process_id")
GRAYSCALE = ("mnist", "fashion_mnist", "digits")


def distribute() -> None:
    """Turns on data parallelism as the flags ask. Called before anything else runs JAX or
    TensorFlow: jax.distributed and TensorFlow's multi-worker strategy must start first."""
    import kwgan

    check_process_flags()
    if not FLAGS.distribute:
        return
    kwgan.distribute.data_parallel(
        job_addresses=FLAGS.coordinator,
        num_processes=FLAGS.num_processes,
        process_id=FLAGS.process_id,
    )
    devices = kwgan.distribute.num_replicas()
    if FLAGS.batch_size % devices:
        raise kwgan.errors.ConfigError(
            f"--batch_size {FLAGS.batch_size} (the global batch) does not divide among the "
            f"{devices} devices training it; pass a multiple of {devices}."
        )
    if FLAGS.max_minutes and kwgan.distribute.several_processes():
        raise kwgan.errors.ConfigError(
            "--max_minutes would stop each process by its own clock, and processes that stop "
            "at different steps wait for each other forever; over several processes, stop the "
            "run by killing it and rerun the command to resume."
        )


def check_process_flags() -> None:
    """Refuses --coordinator, --num_processes and --process_id where they cannot work."""
    import keras

    from kwgan.errors import ConfigError

    given = [f"--{name}" for name in PROCESS_FLAGS if FLAGS[name].value is not None]
    if not given:
        return
    if not FLAGS.distribute:
        raise ConfigError(f"{given[0]} trains over several processes: add --distribute.")
    if keras.backend.backend() == "tensorflow":
        raise ConfigError(
            "TensorFlow trains over several processes through TF_CONFIG, set in each worker's "
            'environment (see the README\'s "Scaling out"); --coordinator, --num_processes and '
            "--process_id are for JAX."
        )
    if len(given) < len(PROCESS_FLAGS):
        raise ConfigError(
            "--coordinator, --num_processes and --process_id go together: pass all three to "
            "every process."
        )
    if FLAGS.process_id >= FLAGS.num_processes:
        raise ConfigError(
            f"--process_id {FLAGS.process_id} is not one of the --num_processes "
            f"{FLAGS.num_processes} processes (0 … {FLAGS.num_processes - 1})."
        )


def dataset(start_batch: int):
    """The training batches from global batch `start_batch` on: a tf.data stream where
    TensorFlow is installed, an in-memory PyDataset otherwise; over several JAX processes,
    this process's rows of each."""
    import kwgan

    shard = kwgan.distribute.process_shard()
    kwargs = dict(
        image_size=FLAGS.image_size,
        data_dir=FLAGS.data_dir,
        channels=FLAGS.channels,
        with_labels=FLAGS.conditional,
    )
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        arrays = kwgan.data.image_array(FLAGS.dataset, download=FLAGS.download, **kwargs)
        arrays = arrays if FLAGS.conditional else (arrays,)
        return kwgan.data.ImageBatches(
            *arrays,
            batch_size=FLAGS.batch_size,
            seed=FLAGS.seed,
            start_batch=start_batch,
            shard=shard,
        )
    # Small datasets are held in memory after resizing: otherwise every epoch (28 batches
    # for the digits) re-decodes and re-resizes the whole set.
    return kwgan.data.images(
        FLAGS.dataset,
        batch_size=FLAGS.batch_size,
        download=FLAGS.download,
        seed=FLAGS.seed,
        cache=FLAGS.dataset in ("digits", "mnist", "fashion_mnist", "cifar10"),
        start_batch=start_batch,
        shard=shard,
        **kwargs,
    )


def _with(optimizer, **changes):
    """A fresh optimizer configured like `optimizer` but for `changes`."""
    return optimizer.from_config({**optimizer.get_config(), **changes})


def build_gan(channels: int):
    import keras

    import kwgan

    keras.utils.set_random_seed(FLAGS.seed)
    options = {"conditional": True, "acgan": True} if FLAGS.conditional else {}
    generator, critic = kwgan.architectures.build(
        FLAGS.arch,
        image_size=FLAGS.image_size,
        channels=channels,
        latent_dim=FLAGS.latent_dim,
        objective=FLAGS.objective,
        dim=FLAGS.dim,
        generator_dim=FLAGS.generator_dim,
        critic_dim=FLAGS.critic_dim,
        **options,
    )
    gan = kwgan.GAN(generator, critic, seed=FLAGS.seed)
    objective = kwgan.objectives.get(FLAGS.objective)
    if FLAGS.optimizer:
        objective = objective.with_optimizer(FLAGS.optimizer)
    g_opt, d_opt = objective.optimizers(beta_1=FLAGS.beta1 if objective.adam else None)
    if FLAGS.lr:
        g_opt, d_opt = (_with(opt, learning_rate=FLAGS.lr) for opt in (g_opt, d_opt))
    if FLAGS.critic_lr:
        d_opt = _with(d_opt, learning_rate=FLAGS.critic_lr)
    schedule = dict(critic_steps=FLAGS.critic_steps, warmup=FLAGS.warmup)
    gan.compile(FLAGS.objective, generator_optimizer=g_opt, critic_optimizer=d_opt, **schedule)
    if FLAGS.lr_decay:
        # Each optimizer counts its own updates, so the critic's decays over all the critic
        # iterations of the run (known once compiled) and the generator's over --steps.
        decay = keras.optimizers.schedules.PolynomialDecay
        g_opt, d_opt = (
            _with(opt, learning_rate=decay(float(opt.learning_rate), steps, end_learning_rate=0.0))
            for opt, steps in ((g_opt, FLAGS.steps), (d_opt, gan.steps_for(FLAGS.steps)))
        )
        gan.compile(FLAGS.objective, generator_optimizer=g_opt, critic_optimizer=d_opt, **schedule)
    return gan


def quality(samples, labels) -> dict:
    """Classifier-based scores where a classifier exists (the digits)."""
    import numpy as np

    import kwgan

    if FLAGS.dataset != "digits":
        return {}
    real = kwgan.data.image_array("digits", image_size=FLAGS.image_size, channels=1)
    report = kwgan.metrics.digits_report(as_shown(samples), real=real, labels=labels)
    return {
        "digits": {
            k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in report.items()
        }
    }


def timed(evaluate, stopwatch):
    """`evaluate`, its result also holding the run's `seconds` of training when it began
    (the `Stopwatch`'s, so summed over resumed invocations) and its own `eval_seconds`:
    the wall-clock axis of WGAN-GP Fig. 3 is the seconds minus the earlier evaluations'."""
    import time

    def run(gan, iteration: int) -> dict:
        seconds, start = stopwatch.seconds, time.monotonic()
        result = evaluate(gan, iteration)
        return {**result, "seconds": seconds, "eval_seconds": time.monotonic() - start}

    return run


def as_shown(samples):
    """Samples clipped to [−1, 1], as an image shows them: the WGAN repo's MLP generator
    ends in a linear layer, not tanh (`models/mlp.py`, `MLP_G`), and its sample sheets are
    clamped when saved (`vutils.save_image`)."""
    import numpy as np

    return np.clip(samples, -1.0, 1.0)


def evaluate_digits(gan, iteration: int) -> dict:
    """Score and Fréchet distance of 1000 samples mid-run (digits only)."""
    import numpy as np

    import kwgan

    noise = np.random.default_rng(FLAGS.seed + 2).normal(size=(1000, gan.latent_dim))
    labels = gan.class_cycle(len(noise))
    samples = as_shown(gan.generate(noise, labels=labels, batch_size=250))
    score, _ = kwgan.metrics.classifier_score(samples)
    fd = kwgan.metrics.frechet_distance(samples, kwgan.metrics.real_digits("heldout"))
    result = {"score": score, "fd": fd}
    if labels is not None:
        result["label_accuracy"] = kwgan.metrics.label_accuracy(samples, labels)
    return result


@functools.cache
def real_fid_statistics():
    """The Inception statistics of the dataset's test split at the run's image size.

    Cached on disk by `real_statistics` when the images have the dataset's own channels (which
    is how it reads them); with --channels they are computed from the converted images.
    """
    import kwgan

    if FLAGS.channels is None:
        return kwgan.metrics.real_statistics(
            FLAGS.dataset, image_size=FLAGS.image_size, split="test", data_dir=FLAGS.data_dir
        )
    real = kwgan.data.image_array(
        FLAGS.dataset,
        split="test",
        image_size=FLAGS.image_size,
        channels=FLAGS.channels,
        data_dir=FLAGS.data_dir,
    )
    return kwgan.metrics.RealStatistics.from_features(kwgan.metrics.inception.features(real))


def evaluate_fid(gan, iteration: int) -> dict:
    """FID and KID of --fid_samples samples (the same noise at every iteration) against the
    test split; the samples' features are computed once for both."""
    import numpy as np

    import kwgan

    noise = np.random.default_rng(FLAGS.seed + 3).normal(size=(FLAGS.fid_samples, gan.latent_dim))
    samples = gan.generate(noise, labels=gan.class_cycle(len(noise)), batch_size=250)
    fake = kwgan.metrics.RealStatistics.from_features(kwgan.metrics.inception.features(samples))
    real = real_fid_statistics()
    return {
        "fid": kwgan.metrics.fid_score(fake, real),
        "kid": list(kwgan.metrics.kid_score(fake, real, seed=FLAGS.seed)),
    }


def sample_grid(board):
    """The SampleGrid callback; with a TensorBoard `board`, each grid it writes is also
    logged there as the image `samples` at its generator iteration."""
    import numpy as np
    from PIL import Image

    import kwgan

    class LoggedSampleGrid(kwgan.callbacks.SampleGrid):
        def write(self, iteration: int) -> None:
            super().write(iteration)
            with Image.open(os.path.join(self.directory, "samples.png")) as grid:
                board.image("samples", np.asarray(grid), iteration)

    grid = LoggedSampleGrid if board else kwgan.callbacks.SampleGrid
    return grid(FLAGS.out, every=FLAGS.sample_every, seed=FLAGS.seed)


def train(run, gan):
    """Trains (resuming from the run's checkpoint); returns the W-estimate curve, the
    evaluations and the FID evaluations (each None if off) and the stopwatch, whose state
    covers the whole run."""
    import kwgan

    title = f"{FLAGS.arch} / {FLAGS.objective} on {FLAGS.dataset}"
    stateful = {
        "curve": kwgan.callbacks.WEstimateCurve(
            os.path.join(FLAGS.out, "w_estimate.png"), title=title
        ),
        "stopwatch": kwgan.callbacks.Stopwatch(),
    }
    # Only where files are written: LoggedSampleGrid logs the samples.png written there.
    logs = FLAGS.tensorboard and kwgan.distribute.is_chief()
    board = kwgan.tensorboard.TensorBoard(FLAGS.tensorboard) if logs else None
    if FLAGS.eval_every:
        evaluate = board.logged(evaluate_digits) if board else evaluate_digits
        evaluate = timed(evaluate, stateful["stopwatch"])
        stateful["evaluations"] = kwgan.callbacks.EvaluateEvery(FLAGS.eval_every, evaluate)
    if FLAGS.fid_every:
        evaluate = board.logged(evaluate_fid, prefix="fid/") if board else evaluate_fid
        stateful["fid_evaluations"] = kwgan.callbacks.EvaluateEvery(FLAGS.fid_every, evaluate)
    callbacks = [sample_grid(board), *stateful.values()]
    if FLAGS.max_minutes:
        callbacks.append(kwgan.callbacks.TimeLimit(60 * FLAGS.max_minutes))
    if board:
        callbacks.append(board)
    kwgan.run.train(
        run,
        gan,
        dataset,
        callbacks=callbacks,
        stateful=stateful,
        checkpoint_every=FLAGS.checkpoint_every,
    )
    return (
        stateful["curve"],
        stateful.get("evaluations"),
        stateful.get("fid_evaluations"),
        stateful["stopwatch"],
    )


def final_outputs(gan, curve, evaluations, fid_evaluations, stopwatch):
    """The samples of samples.npy and the metrics of metrics.json. Every process of a
    data-parallel run computes them: generating runs on all the run's devices."""
    import keras
    import numpy as np

    import kwgan

    noise = np.random.default_rng(FLAGS.seed + 1).normal(size=(FLAGS.num_samples, gan.latent_dim))
    labels = gan.class_cycle(FLAGS.num_samples)  # kept to score label accuracy
    samples = gan.generate(noise, labels=labels, batch_size=250)
    iterations = int(keras.ops.convert_to_numpy(gan.generator_iterations))
    metrics = {
        "config": {
            name: FLAGS[name].value
            for name in (
                "arch",
                "objective",
                "dataset",
                "image_size",
                "latent_dim",
                "dim",
                "generator_dim",
                "critic_dim",
                "steps",
                "batch_size",
                "critic_steps",
                "optimizer",
                "lr",
                "critic_lr",
                "beta1",
                "warmup",
                "conditional",
                "fid_samples",
                "fid_every",
                "seed",
            )
        },
        "backend": keras.backend.backend(),
        "devices": kwgan.distribute.num_replicas(),
        "generator_iterations": iterations,
        "seconds": stopwatch.seconds,
        "steady_seconds_per_generator_iteration": stopwatch.steady_seconds_per_generator_iteration,
        "parameters": {
            "generator": gan.generator.count_params(),
            "critic": gan.critic.count_params(),
        },
        **quality(samples, labels),
        **({"evaluations": evaluations.results} if evaluations else {}),
        **({"fid_evaluations": fid_evaluations.results} if fid_evaluations else {}),
        **(
            {"fid": {**evaluate_fid(gan, iterations), "fid_samples": FLAGS.fid_samples}}
            if FLAGS.fid_samples
            else {}
        ),
        "logs": {"iterations": curve.iterations, **curve.history},
    }
    return samples, metrics


def write_outputs(gan, samples, metrics: dict) -> None:
    """samples.npy, gan.keras, metrics.json and the --export, each written atomically."""
    import numpy as np

    import kwgan
    from kwgan.io import atomic_path, write_json

    with atomic_path(os.path.join(FLAGS.out, "samples.npy"), suffix=".npy") as tmp:
        np.save(tmp, samples)
    with atomic_path(os.path.join(FLAGS.out, "gan.keras"), suffix=".keras") as tmp:
        gan.save(tmp)
    write_json(os.path.join(FLAGS.out, "metrics.json"), metrics)
    if FLAGS.export:
        kwgan.export.export_generator(
            gan.generator,
            FLAGS.export,
            metadata={
                "objective": FLAGS.objective,
                "architecture": FLAGS.arch,
                "dataset": FLAGS.dataset,
                "generator_iterations": metrics["generator_iterations"],
            },
            num_classes=gan.num_classes,
        )


def main(argv):
    del argv
    import kwgan

    if FLAGS.export:
        kwgan.export.require_tensorflow()  # fail now, not after the whole run
    if FLAGS.eval_every and FLAGS.dataset != "digits":
        raise kwgan.errors.ConfigError(
            "--eval_every scores digits only (the classifier is a digits one)."
        )
    if FLAGS.dataset == "digits" and FLAGS.num_samples < 10:
        raise kwgan.errors.ConfigError(
            "--num_samples must be >= 10 on the digits: the score averages over 10 splits."
        )
    if FLAGS.fid_every and not FLAGS.fid_samples:
        raise kwgan.errors.ConfigError("--fid_every needs --fid_samples (how many to score).")
    if FLAGS.fid_samples and FLAGS.dataset not in WITH_TEST_SPLIT:
        raise kwgan.errors.ConfigError(
            f"--fid_samples scores against the dataset's test split, which {FLAGS.dataset} "
            f"does not have; use it with {', '.join(WITH_TEST_SPLIT)}."
        )
    if FLAGS.fid_samples and FLAGS.distribute:
        raise kwgan.errors.ConfigError(
            "--fid_samples does not run data-parallel yet: train with --distribute, then score "
            "samples.npy on one device (kwgan.metrics.inception.features, "
            "kwgan.metrics.real_statistics, kwgan.metrics.fid_score)."
        )
    if FLAGS.fid_samples:
        kwgan.metrics.inception.load_weights()  # fail now if not installed, not after the run
    distribute()
    config = kwgan.cli.flag_values(sys.modules[__name__])
    # A learning rate decaying to 0 at --steps makes --steps part of the training itself.
    with kwgan.run.Run(
        FLAGS.out, config, free=FREE_FLAGS, target_may_grow=not FLAGS.lr_decay
    ) as run:
        if run.already_complete():
            print(run.complete_message)
            return
        channels = FLAGS.channels or (1 if FLAGS.dataset in GRAYSCALE else 3)
        gan = build_gan(channels)
        curve, evaluations, fid_evaluations, stopwatch = train(run, gan)
        samples, metrics = final_outputs(gan, curve, evaluations, fid_evaluations, stopwatch)
        kwgan.distribute.chief_only(write_outputs)(gan, samples, metrics)
        iterations = metrics["generator_iterations"]
        run.complete(iterations)
    print(
        f"\n{iterations} generator iterations in {metrics['seconds']:.0f}s; outputs in {FLAGS.out}"
    )
    if "digits" in metrics:
        d = metrics["digits"]
        print(
            f"digit score {d['score']:.2f} (real {d['real_score']:.2f}), "
            f"Fréchet {d['fd']:.2f} (real-vs-real {d['real_fd']:.2f})"
        )
    if "fid" in metrics:
        f = metrics["fid"]
        kid_mean, kid_std = f["kid"]
        print(
            f"FID {f['fid']:.2f}, KID {kid_mean:.4f} ± {kid_std:.4f} ({f['fid_samples']} samples)"
        )


if __name__ == "__main__":
    from kwgan.cli import run

    run(main)
