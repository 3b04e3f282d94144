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
feed different data: `process_rows` picks a process's share of an array so that the global
batches are those of a one-process run; a kwgan data pipeline needs a different `seed` per
process. Every process ends with the same weights, and all would write the same checkpoint
files: save from one of them (`jax.process_index() == 0`).

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
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence

import keras
import numpy as np

from kwgan.errors import ConfigError, check_positive_int


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
    distribution = keras.distribution.distribution()
    if distribution is None:
        raise ConfigError("process_rows needs data parallelism on: call data_parallel() first.")
    n = distribution.num_processes
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size % n:
        raise ConfigError(
            f"The global batch size ({batch_size}) must divide by the number of processes ({n})."
        )

    def rows(array):
        array = np.asarray(array)
        batches = len(array) // batch_size
        split = array[: batches * batch_size].reshape(batches, n, -1, *array.shape[1:])
        return split[:, distribution.data_shard_id].reshape(-1, *array.shape[1:])

    return keras.tree.map_structure(rows, x)


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
