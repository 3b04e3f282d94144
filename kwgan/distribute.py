"""Data-parallel training: the same `gan.fit`, one replica of the GAN per device.

Call `data_parallel()` first thing (or build, compile and fit inside `strategy_scope()`);
everything after is unchanged:

```python
kwgan.distribute.data_parallel()  # every device of every process
gan = kwgan.GAN(*kwgan.architectures.build("dcgan"))
gan.compile("wgan-gp")
gan.fit(images, batch_size=64)  # the global batch, split across the devices
```

**JAX** (`keras.distribution.DataParallel`). Keras replicates every variable on a 1-D mesh
of the devices, splits each batch along its first axis (`_distribute_data` in
keras/src/backend/jax/trainer.py) and jits the unchanged train step over the resulting
global arrays; XLA's SPMD partitioner adds the all-reduces. So the step is one program
over the global batch, and nothing is per-replica:

- noise and interpolation weights are drawn for the global batch from the one replicated
  seed, and are the numbers a one-device run draws (JAX's threefry is partitionable,
  `jax_threefry_partitionable`, so a draw does not depend on how its output is sharded);
- every mean — the losses, the gradient penalty, the batch-norm statistics — is over the
  global batch. Batch normalisation therefore behaves as on one device at the global batch
  (unlike `tf.distribute`, where each replica normalises its own slice).

A run on N devices thus matches a one-device run at the same global batch up to float
rounding: the reductions add in another order (~1e-7 relative per step). GAN training
amplifies rounding, so long runs drift apart as far as two one-device runs do when a single
weight differs by one ulp; and Adam or RMSProp, which divide a gradient by its own size,
turn a gradient that is only rounding noise into steps of up to the learning rate: a bias
feeding batch norm (no effect, true gradient 0) random-walks differently in every run
unless its layer has `use_bias=False`, as in the WGAN repo's DCGAN. Compare runs over a
few steps, not over a whole training.

What `fit`'s batch size means: in one process, the global batch, split evenly across the
devices (every batch, the last one too, must divide by their number; jax raises an
`IndivisibleError` otherwise). With several processes, Keras's multi-process semantics
apply: every process loads its own per-process batch, and the global batch is their
concatenation in process order, `batch_size × num_processes` rows. So each process must
feed different data: `process_rows` picks a process's share of an array, and the image
pipelines' `shard=process_shard()` (`kwgan.data.images`, `ImageBatches`) a process's rows of
every batch, so that the global batches are those of a one-process run.

**TensorFlow** (`tf.distribute`): a `MirroredStrategy` over this process's devices, or a
`MultiWorkerMirroredStrategy` across processes when `TF_CONFIG` describes the cluster
(`_tensorflow_strategy`). Keras runs the train step once per replica on its slice of the
global batch; kwgan/backend/tensorflow.py scales each replica's losses by its share of
the global batch and draws each replica's rows of the global noise, so N replicas train
as one device does at the same global batch. Unlike JAX, batch normalisation normalises
each replica's slice on its own; every worker gets its own shard of a `tf.data` dataset;
Keras turns XLA off under `tf.distribute`, and `steps_per_execution` > 1 fails there in
Keras itself (keras-team/keras#19246), so `GAN.compile` refuses it under a strategy.
**torch**: not supported; `kwgan.errors.ConfigError`.

**Outputs.** Every process runs the same program: each training step and each `predict`
(`GAN.generate` goes through `predict` below) is one computation over all the devices, which
every process must enter (JAX's multi-controller model; TensorFlow's collectives). All end
with the same weights, so one process writes for all, `is_chief()`: JAX's process 0, or
TensorFlow's chief (the "chief" task of TF_CONFIG, else worker 0; TF's own rule,
`strategy.extended.should_checkpoint`). kwgan's run record and lock, checkpoints, sample
grids, plots, metrics and TensorBoard logs are written by it alone (`chief_only`), with data
parallelism off while it writes; the others compute what it computes and write nothing.
TensorFlow's own savers instead make every worker save, the others into temporary
directories, because saving may run collectives (new variables, `SyncOnRead` reads); kwgan's
checkpoints hold only `MirroredVariable`s, read locally, and the variables Keras's saving
creates are created outside the strategy. With several hosts, the run's directory must be on
a filesystem they all mount: the others restore from it. And the processes must decide alike
whatever changes what they compute (`several_processes`): kwgan's data order, critic
schedule and stop at a generator iteration do; a wall-clock `TimeLimit` does not.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator, Sequence
from typing import ParamSpec, TypeVar

import keras
import numpy as np

from kwgan.errors import ConfigError, check_positive_int

_P = ParamSpec("_P")
_R = TypeVar("_R")


def data_parallel(
    devices: Sequence[str] | None = None,
    *,
    job_addresses: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
) -> object:
    """Trains every GAN built from now on data-parallel over `devices` (default: all of
    them, in every process), and returns the distribution (JAX: the
    `keras.distribution.DataParallel`; TensorFlow: the `tf.distribute` strategy).

    Several processes (JAX): pass `job_addresses` (the coordinator's "host:port"),
    `num_processes` and this process's `process_id`, and call this before anything else
    touches JAX (`keras.distribution.initialize`, which starts `jax.distributed`; on CPU
    its collectives use gloo, JAX's default). See the module docstring for what each
    process then feeds `fit`.
    """
    backend = _backend()
    multi_process = job_addresses is not None or num_processes is not None
    if backend == "tensorflow":
        if multi_process:
            raise ConfigError(
                "TensorFlow trains across processes through TF_CONFIG: set it in each "
                "worker's environment and call data_parallel() without job_addresses or "
                "num_processes."
            )
        import tensorflow as tf

        strategy = _tensorflow_strategy(devices)
        tf.distribute.experimental_set_strategy(strategy)
        return strategy
    if multi_process:
        keras.distribution.initialize(job_addresses, num_processes, process_id)
    distribution = _jax_distribution(devices)
    keras.distribution.set_distribution(distribution)
    return distribution


@contextlib.contextmanager
def strategy_scope(devices: Sequence[str] | None = None) -> Iterator[object]:
    """`data_parallel` for one block: build, compile and fit the GAN inside it (JAX: the
    distribution's `scope()`; TensorFlow: the strategy's `scope()`). Yields the
    distribution or strategy; the previous one is back on exit."""
    backend = _backend()
    if backend == "tensorflow":
        strategy = _tensorflow_strategy(devices)
        with strategy.scope():
            yield strategy
        return
    distribution = _jax_distribution(devices)
    with distribution.scope():
        yield distribution


def process_rows(x: np.ndarray | tuple, batch_size: int) -> np.ndarray | tuple:
    """This process's rows of `x` (an array, or a tuple of arrays such as (images,
    labels)) for `fit(rows, batch_size=batch_size // num_processes, shuffle=False)`, so
    that the processes together train on the global batches of `batch_size` rows that one
    process would see in `fit(x, batch_size=batch_size, shuffle=False)`.

    Global batch k is the concatenation of every process's per-process batch k, in process
    order (`jax.make_array_from_process_local_data`), so process i takes the i-th slice of
    each global batch. A trailing partial global batch is left out.
    """
    if keras.distribution.distribution() is None:
        raise ConfigError("process_rows needs data parallelism on: call data_parallel() first.")
    index, n = process_shard() or (0, 1)
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size % n:
        raise ConfigError(
            f"The global batch size ({batch_size}) must divide by the number of processes ({n})."
        )

    def rows(array):
        array = np.asarray(array)
        batches = len(array) // batch_size
        split = array[: batches * batch_size].reshape(batches, n, -1, *array.shape[1:])
        return split[:, index].reshape(-1, *array.shape[1:])

    return keras.tree.map_structure(rows, x)


def process_shard() -> tuple[int, int] | None:
    """(this process's index, the number of processes) where each process must feed its own
    rows of every global batch: a JAX run over several processes (see `process_rows`). None
    where one process feeds whole batches, or where `tf.distribute` splits them among its
    workers itself (TensorFlow shards a `tf.data` dataset across workers)."""
    distribution = keras.distribution.distribution()
    if keras.backend.backend() != "jax" or distribution is None or distribution.num_processes == 1:
        return None
    return distribution.data_shard_id, distribution.num_processes


def num_replicas() -> int:
    """How many devices split each global batch between them, over every process; 1 without
    data parallelism."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.distribute.get_strategy().num_replicas_in_sync
    distribution = keras.distribution.distribution()
    return 1 if distribution is None else distribution.device_mesh.devices.size


def several_processes() -> bool:
    """Whether this run spans several processes: JAX processes, or the workers of a
    TensorFlow `MultiWorkerMirroredStrategy`. They must then take every decision that
    changes what they compute alike."""
    return process_shard() is not None or _multi_worker_strategy() is not None


def is_chief() -> bool:
    """Whether this process writes the run's files (see "Outputs" in the module docstring):
    JAX's process 0, TensorFlow's chief worker, and any process training on its own.

    On JAX the process index is read only once a distribution is set, as a multi-process
    one is set only after `jax.distributed` starts, which must happen before JAX first runs.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.distribute.get_strategy().extended.should_checkpoint)
    if backend == "jax" and keras.distribution.distribution() is not None:
        import jax

        return jax.process_index() == 0
    return True


def chief_only(write: Callable[_P, _R]) -> Callable[_P, _R | None]:
    """`write`, run only in the process that writes the run's files (`is_chief`), and there
    on its own; elsewhere a call does nothing and returns None. For functions that only
    write: what they write, every process must compute outside them.

    "On its own": over several processes, `write` runs with data parallelism off, so that
    it starts no computation the other processes would have to join. Keras's saving creates
    variables (`saving_lib.get_attr_skipset` builds a reference optimizer), and creating one
    under data parallelism is a collective: `jax.device_put` checks across processes that
    the value is the same, and TensorFlow's multi-worker strategy broadcasts it.
    """

    @functools.wraps(write)
    def in_chief(*args: _P.args, **kwargs: _P.kwargs) -> _R | None:
        if not is_chief():
            return None
        with _alone():
            return write(*args, **kwargs)

    return in_chief


@contextlib.contextmanager
def _alone() -> Iterator[None]:
    """A block one process runs on its own: over several processes, without the Keras
    distribution (JAX) or the `tf.distribute` strategy, which come back after it."""
    strategy = _multi_worker_strategy()
    if strategy is not None:
        import tensorflow as tf

        try:
            tf.distribute.experimental_set_strategy(None)
        except RuntimeError:  # inside `strategy.scope()`, which only its `with` can leave
            raise ConfigError(
                "Over several TensorFlow workers kwgan writes files outside the strategy, so "
                "set it with kwgan.distribute.data_parallel() (or "
                "tf.distribute.experimental_set_strategy) instead of entering its scope."
            ) from None
        try:
            yield
        finally:
            tf.distribute.experimental_set_strategy(strategy)
        return
    if not several_processes():
        yield
        return
    distribution = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(distribution)


def _multi_worker_strategy():
    """TensorFlow's current `MultiWorkerMirroredStrategy`, else None."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    return strategy if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) else None


def agree(value: int) -> bool:
    """Whether every process of the run holds the same `value` (True in a process training
    on its own). Every process must call it: the values are all-gathered."""
    if process_shard() is not None:
        from jax.experimental import multihost_utils

        return len(set(multihost_utils.process_allgather(np.int64(value)).tolist())) == 1
    strategy = _multi_worker_strategy()
    if strategy is None:
        return True
    import tensorflow as tf

    values = strategy.experimental_distribute_values_from_function(
        lambda _: tf.constant([value], tf.int64)
    )
    return len(set(strategy.gather(values, axis=0).numpy().tolist())) == 1


def predict(model: keras.Model, inputs, batch_size: int) -> np.ndarray:
    """`model.predict(inputs, batch_size=batch_size)` (inference mode) that also works
    data-parallel, with one output row per input row.

    JAX splits every batch evenly across the devices, so the inputs are padded with copies
    of their first row to whole batches of a multiple of the device count. Across processes,
    Keras's `predict` would take each process's inputs as its rows of a larger global batch
    and could not fetch outputs held by other hosts, so every process passes the same inputs
    to one jitted call whose outputs are replicated to every device.
    """
    replicas = num_replicas()
    if keras.backend.backend() != "jax" or replicas == 1:
        return model.predict(inputs, batch_size=batch_size, verbose=0)
    batch_size = -(-batch_size // replicas) * replicas
    n = len(keras.tree.flatten(inputs)[0])
    padded = keras.tree.map_structure(
        lambda x: np.concatenate([x, np.repeat(x[:1], -n % batch_size, axis=0)]), inputs
    )
    if process_shard() is None:
        outputs = model.predict(padded, batch_size=batch_size, verbose=0)
    else:
        outputs = _predict_in_every_process(model, padded, batch_size)
    return outputs[:n]


def _predict_in_every_process(model: keras.Model, inputs, batch_size: int) -> np.ndarray:
    """`model`'s outputs for `inputs` (the same in every process, whole batches), computed
    by all the devices of all processes and replicated to each."""
    import jax

    distribution = keras.distribution.distribution()
    mesh = distribution.device_mesh.backend_mesh
    rows = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(distribution.batch_dim_name))
    everywhere = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    state = (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
    )
    call = jax.jit(
        lambda state, x: model.stateless_call(*state, x, training=False)[0],
        out_shardings=everywhere,
    )

    def spread(x: np.ndarray) -> jax.Array:
        return jax.make_array_from_callback(x.shape, rows, lambda index: x[index])

    def batch(start: int):
        return keras.tree.map_structure(lambda x: spread(x[start : start + batch_size]), inputs)

    n = len(keras.tree.flatten(inputs)[0])
    return np.concatenate([np.asarray(call(state, batch(s))) for s in range(0, n, batch_size)])


def check_compile(steps_per_execution: int) -> None:
    """What `GAN.compile` refuses under data parallelism: any on torch (`_backend`), and
    `steps_per_execution` > 1 under `tf.distribute`, which fails inside Keras
    (keras-team/keras#19246)."""
    if keras.distribution.distribution() is not None:
        _backend()
    if (
        keras.backend.backend() == "tensorflow"
        and isinstance(steps_per_execution, int)
        and steps_per_execution > 1
    ):
        import tensorflow as tf

        if tf.distribute.has_strategy():
            raise ConfigError(
                "steps_per_execution > 1 does not work under tf.distribute in Keras 3 "
                "(keras-team/keras#19246); leave it at 1 when training data-parallel."
            )


def _backend() -> str:
    """The Keras backend, refusing torch: Keras has no data parallelism there."""
    backend = keras.backend.backend()
    if backend not in ("jax", "tensorflow"):
        raise ConfigError(
            f"Data parallelism is not supported on the {backend} backend; use JAX "
            "(KERAS_BACKEND=jax) or TensorFlow (KERAS_BACKEND=tensorflow)."
        )
    return backend


def _jax_distribution(devices: Sequence[str] | None):
    """A `DataParallel` over `devices` (all of them by default). Arrays and
    `keras.utils.PyDataset`s are not auto-sharded: Keras can only shard a `tf.data`
    dataset, and refuses the others in a multi-process run unless told that each process
    already loads its own data, which is what the module docstring asks of it."""
    devices = list(devices) if devices is not None else keras.distribution.list_devices()
    return keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)


def _tensorflow_strategy(devices: Sequence[str] | None):
    """TensorFlow's data parallelism: a `MultiWorkerMirroredStrategy` when `TF_CONFIG`
    describes a cluster (one process per worker, each on its local devices; create it
    before anything else touches TensorFlow), else a `MirroredStrategy` over `devices`:
    by default every GPU, or every logical CPU when there is none (TF's own default
    takes one CPU only). The train step's behaviour under it is
    kwgan/backend/tensorflow.py's."""
    import tensorflow as tf

    if os.environ.get("TF_CONFIG"):
        if devices is not None:
            raise ConfigError(
                "With TF_CONFIG set, each worker trains on its local devices; pass no devices."
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    if devices is None:
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or [
            d.name for d in tf.config.list_logical_devices("CPU")
        ]
    return tf.distribute.MirroredStrategy(list(devices))
