"""The skeleton every experiment shares: open the run, train it resumably, mark it done.

Each recipe (`kwgan.experiment.images`, `toy`, `language`, ...) supplies what differs — the
GAN, its data, its evaluations and its outputs — and `resumable` does the rest the same way
for all of them: every output path checked before anything trains (`check_outputs`), the
output directory's lock and record (`kwgan.run.Run`, which refuses a directory that is not
a kwgan run's and a resume whose config differs in a field that is not free), the "already
finished" answer, and the record of completion written only after every output exists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras

from kwgan import callbacks as kwgan_callbacks
from kwgan import export as kwgan_export
from kwgan import io as kwgan_io
from kwgan import run as kwgan_run
from kwgan.experiment.config import Config

METRICS_FILE = "metrics.json"


def check_outputs(config: Config) -> None:
    """Refuses, before anything trains, the output paths outside `config.out` that the run
    would fail to write or would write over: an `export` onto anything but a previous kwgan
    export (a user's file or folder), a `tensorboard` log directory that is a file or cannot
    be created. (`kwgan.run.Run` checks `out` itself.)"""
    export = getattr(config, "export", None)
    if export:
        kwgan_export.check_export_path(export)
    tensorboard = getattr(config, "tensorboard", None)
    if tensorboard:
        kwgan_io.check_directory(tensorboard, "tensorboard")


def resumable(
    config: Config,
    train_and_write: Callable[[kwgan_run.Run], int],
    data: Mapping[str, Mapping[str, Any]] | None = None,
    finished: Callable[[], None] | None = None,
) -> dict | None:
    """Checks the outputs (`check_outputs`), opens `config.out` as a run and calls
    `train_and_write(run)`, which trains, writes the outputs and returns the generator
    iterations done; then marks the run complete.

    A run that already finished the target is left alone (a message says so), but for
    `finished()`, called while the run's lock is held (an export of its saved model). `data`
    describes what the run reads (`kwgan.data.describe` by role): recorded, and a resume on
    other data refused (`kwgan.run.Run`). Returns the run's `metrics.json` where it has one,
    else `None`.
    """
    check_outputs(config)
    record = config.to_dict()
    with kwgan_run.Run(
        config.out,
        record,
        target=config.target,
        free=config.free_fields(),
        target_may_grow=config.target_may_grow,
        data=data,
        defaults=config.defaults(),
    ) as run:
        if run.already_complete():
            print(run.complete_message)
            if finished is not None:
                finished()
        else:
            run.complete(train_and_write(run))
    return read_metrics(config.out)


def read_metrics(out: str) -> dict | None:
    """The `metrics.json` of the run in `out`, or None where it has none."""
    path = os.path.join(out, METRICS_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def train(
    run: kwgan_run.Run,
    gan: keras.Model,
    dataset: Callable[[int], Any],
    config: Config,
    stateful: Mapping[str, keras.callbacks.Callback],
    first: Sequence[keras.callbacks.Callback] = (),
    last: Sequence[keras.callbacks.Callback] = (),
) -> None:
    """`kwgan.run.train` with the callbacks every experiment has, in this order: `first`,
    the `stateful` ones (checkpointed with the model), a `TimeLimit` where the config has
    `max_minutes`, and `last`."""
    limit = getattr(config, "max_minutes", None)
    callbacks = [
        *first,
        *stateful.values(),
        *([kwgan_callbacks.TimeLimit(60 * limit)] if limit else []),
        *last,
    ]
    kwgan_run.train(
        run,
        gan,
        dataset,
        callbacks=callbacks,
        stateful=stateful,
        checkpoint_every=config.checkpoint_every,
    )


def generator_iterations(gan: keras.Model) -> int:
    """The generator iterations `gan` has trained, as a Python int."""
    return int(keras.ops.convert_to_numpy(gan.generator_iterations))
