"""Several image runs side by side, for the figures that compare them.

The WGAN paper's Figs. 3, 4 and 8 (`kwgan.experiment.loss_meaning`) and the WGAN-GP paper's
Fig. 3 (`kwgan.experiment.convergence`) each train a handful of `ImageConfig`s on the
digits, scored by the digits classifier every `eval_every` generator iterations, and plot
them together. A sweep is a list of such configs, as compare_gan's studies are lists of
configurations rather than of command lines: `SweepConfig` holds the fields every run of
the sweep shares, a figure's config adds its own and builds the runs, and `train_all` trains
each one in this process, through `kwgan.experiment.run`, in its own subdirectory of the
sweep's `out`. Each run is an ordinary resumable image run: a killed sweep resumes the run
it was in, and a rerun leaves the finished ones alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any

import keras

from kwgan import run as kwgan_run
from kwgan.errors import ConfigError, KwganError
from kwgan.experiment.config import SEED_RANGE, Config, option, out_option, seed_option
from kwgan.experiment.images import ImageConfig

LOG_FILE = kwgan_run.LOG_FILE  # a run's directory may hold it before the run opens it


@dataclasses.dataclass(frozen=True)
class SweepConfig(Config):
    """The fields every run of a sweep shares; a figure's config adds its own."""

    dataset: str = option(
        "digits",
        "Dataset: the digits, which the digits classifier scores.",
        choices=("digits",),
    )
    image_size: int = option(32, "Image size (pixels, square).", minimum=1)
    steps: int = option(2000, "Generator iterations of every run.", minimum=1)
    eval_every: int = option(
        50, "Score 1000 samples every this many generator iterations.", minimum=1
    )
    batch_size: int = option(64, "Batch size.", minimum=1)
    seed: int = seed_option("Seed of every run.")
    out: str = out_option("runs/sweep")

    def shared(self) -> dict[str, Any]:
        """The `ImageConfig` fields every run of the sweep takes from it (not `out`: each
        run has its own subdirectory)."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(SweepConfig)
            if f.name != "out"
        }


def _datasets_with_test_split() -> tuple[str, ...]:
    import kwgan

    return tuple(
        name for name in kwgan.data.IMAGE_DATASETS if kwgan.data.dataset_info(name).has_test_split
    )


@dataclasses.dataclass(frozen=True)
class ScoredSweepConfig(Config):
    """The fields every run of a sweep scored against a test split shares (the recipe
    search, the precision study): the study's network and data, KID of `kid_samples`
    samples (unbiased at any sample count, where FID's bias depends on it; Bińkowski et al.
    2018, §3) with FID, precision and recall beside it."""

    dataset: str = option(
        "fashion_mnist",
        "Dataset with a test split to score against.",
        choices=_datasets_with_test_split,
    )
    data_dir: str | None = option(
        None, "Where the dataset's files are (as experiments/lsun.py).", free=True
    )
    arch: str = option("infogan", "Architecture of every run (the study's network).")
    image_size: int = option(28, "Image size (pixels, square).", minimum=1)
    dim: int | None = option(
        None, "Base width of both networks (the architecture's default).", minimum=1
    )
    steps: int = option(2000, "Generator iterations of every run.", minimum=1)
    kid_samples: int = option(
        2000, "Samples scored (KID ranks; FID, precision, recall beside it).", minimum=6
    )
    batch_size: int = option(64, "Batch size.", minimum=1)
    out: str = out_option("runs/sweep")

    def shared(self) -> dict[str, Any]:
        """The `ImageConfig` fields every run of the sweep takes from it."""
        return {
            "dataset": self.dataset,
            "data_dir": self.data_dir,
            "arch": self.arch,
            "image_size": self.image_size,
            "dim": self.dim,
            "steps": self.steps,
            "fid_samples": self.kid_samples,
            "batch_size": self.batch_size,
        }

    def check_test_split(self) -> None:
        """Refuses a `kid_samples` the test split cannot serve, under its own name, before
        the sweep's record is written (each run would refuse it only when its turn came,
        naming its own `fid_samples`)."""
        import kwgan
        from kwgan.experiment.images import check_test_split

        test = kwgan.data.describe(self.dataset, split="test", data_dir=self.data_dir)
        check_test_split(test, self.kid_samples, setting="kid_samples")


def default(name: str, value: Any, base: type[Config] = SweepConfig) -> Any:
    """`base`'s field `name` with another default: a figure's config redefines `steps` or
    `out` with its paper's value and keeps the field's help and checks."""
    field = base.__dataclass_fields__[name]
    return dataclasses.field(default=value, metadata=field.metadata)


def seeds_option(default: tuple[int, ...], *, free: bool = False) -> Any:
    """The `seeds` field of a sweep that trains the same runs from several seeds."""
    low, high = SEED_RANGE
    return option(default, "Seeds, each its own run.", free=free, minimum=low, maximum=high)


def check_seeds(seeds: tuple[int, ...]) -> None:
    """Refuses an empty `seeds` or one naming a seed twice (two runs, one directory)."""
    if not seeds:
        raise ConfigError("seeds needs at least one seed.")
    if len(set(seeds)) < len(seeds):
        raise ConfigError(f"seeds names one seed twice: {seeds}.")


def ema_decay_option() -> Any:
    """The generator average's decay of a sweep whose runs keep one (as `ImageConfig`)."""
    return option(0.999, "Generator average's decay in every run.")


def ema_start_option() -> Any:
    """The generator iterations before a sweep's averages start (as `ImageConfig`)."""
    return option(1000, "Generator iterations before the average starts.", minimum=0)


def run_sweep(
    config: Config,
    runs: Mapping[str, ImageConfig],
    write_outputs: Callable[[dict[str, dict]], str],
) -> dict[str, dict]:
    """Trains `runs` into `config.out` (`train_all`), then `write_outputs(metrics)` writes
    the figure and its numbers and returns what to print; returns each run's metrics.json.

    `config` is a `SweepConfig`, or any config with the `out` and `steps` of one.
    `config.out` itself is a run too (`kwgan.run.Run`): its lock keeps a second sweep out,
    and its record refuses a rerun of the finished sweep that changes a field shaping the
    results (before it finished, each run's own record does from the run's first
    checkpoint, and that record holds every field shaping the run). A finished
    sweep's figure and numbers are written again, so that a free field that only reads the
    runs (the convergence table's thresholds) applies. A new sweep may start in a directory
    holding runs trained alone (`experiments/lsun.py`): one named as a run of the sweep, with
    its fields, is collected as it stands.
    """
    with kwgan_run.Run(
        config.out,
        config.to_dict(),
        free=config.free_fields(),
        defaults=config.defaults(),
        holds_runs=True,
    ) as run:
        metrics = train_all(config.out, runs)
        report = write_outputs(metrics)
        run.complete(config.steps)
    print(report)
    return metrics


def write_summary(config: Config, stem: str, summary: dict, table: str) -> str:
    """`stem`.json (the sweep's config and `summary`) and `stem`.md (`table`) in
    `config.out`, each written atomically; returns `table`, what the sweep prints."""
    from kwgan.io import atomic_path, write_json

    write_json(os.path.join(config.out, f"{stem}.json"), {"config": config.to_dict(), **summary})
    with atomic_path(os.path.join(config.out, f"{stem}.md")) as tmp, open(tmp, "w") as f:
        f.write(table)
    return table


def train_all(out: str, runs: Mapping[str, ImageConfig]) -> dict[str, dict]:
    """Trains (or resumes, or leaves finished) each run, `name: config`, into `out/name`,
    in order; returns each one's metrics.json.

    Each run's printed output goes to its `log.txt`, so the sweep's own lines stay readable.
    Keras's global state is cleared before each run, so that its layer names and random
    state do not depend on the runs before it: a run resumed by a rerun of a killed sweep
    ends exactly as in the uninterrupted sweep.
    """
    metrics = {}
    for number, (name, config) in enumerate(runs.items(), start=1):
        config = config.replace(out=os.path.join(out, name))
        log = os.path.join(config.out, LOG_FILE)
        print(f"[{number}/{len(runs)}] {name}: {described(config)} (log: {log})", flush=True)
        metrics[name] = _train_logged(name, config, log)
    return metrics


def described(config: ImageConfig) -> str:
    """The fields where `config` departs from `ImageConfig`'s defaults, less `out`."""
    return " ".join(
        f"{f.name}={getattr(config, f.name)}"
        for f in dataclasses.fields(config)
        if f.name != "out" and getattr(config, f.name) != f.default
    )


def _train_logged(name: str, config: ImageConfig, log: str) -> dict:
    """`kwgan.experiment.run(config)` in a fresh Keras session, printing into `log`."""
    from kwgan.experiment import run as run_experiment

    keras.backend.clear_session()
    os.makedirs(config.out, exist_ok=True)
    with open(log, "a", buffering=1) as f:
        try:
            with contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
                return run_experiment(config)
        except KwganError as error:
            raise KwganError(f"the {name} run failed: {error} (its log: {log}).") from error


def evaluation_series(metrics: dict, key: str) -> tuple[list[int], list[float]]:
    """The iterations of a run's digits evaluations and the `key` measured at each."""
    evaluations = metrics["evaluations"]
    return [e["iteration"] for e in evaluations], [e[key] for e in evaluations]


def training_seconds(metrics: dict) -> list[float]:
    """The run's training seconds at each evaluation: the stopwatch's, less the time spent
    in the evaluations before it (every run scores at the same iterations, but a DCGAN
    iteration costs a fifth of a WGAN one, so the scoring would blur the comparison)."""
    spent, seconds = 0.0, []
    for e in metrics["evaluations"]:
        seconds.append(e["seconds"] - spent)
        spent += e["eval_seconds"]
    return seconds
