"""The endless, resumable batches of `images(..., start_batch=...)`: order, resume and shards.

Batch `g` of a stream depends only on the arguments, `seed` and `g`, so a run restored from
a checkpoint after `p` batches (`start_batch=p`) sees exactly the batches the uninterrupted
run would have seen, whatever epoch boundaries and process restarts lay in between. Each
data epoch holds whole batches only, in an order drawn from `(seed, epoch)` by TensorFlow's
stateless random ops, never from its global seed.

Sources with random access (in memory, a folder's list of files, `cache=True`) are read by
index (`_indexed_stream`): resuming costs nothing and only the rows a process trains on
(`shard`, `kwgan.data.batches.shard_rows`) are fetched. The others are read in order
(`_sequential_stream`), and a resumed stream re-reads its current epoch up to the resume
point; every process reads whole global batches and keeps its rows (`sliced`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from kwgan.data.batches import too_few_examples
from kwgan.data.folder import check_image_files, decode_file, image_files
from kwgan.data.sources import collect

if TYPE_CHECKING:
    import tensorflow as tf

SHUFFLE_BUFFER = 10_000  # examples; 64×64×3 float32 makes this ≈ 0.5 GB for LSUN


def stream(
    name: str,
    to_model: Callable[[dict[str, Any]], Any],
    examples: Callable[..., tf.data.Dataset],
    memory: tuple[np.ndarray, np.ndarray] | None,
    *,
    split: str,
    data_dir: str | os.PathLike | None,
    batch_size: int,
    shuffle: bool,
    cache: bool | str | os.PathLike,
    seed: int,
    start_batch: int,
    rows: tuple[int, int],
) -> tf.data.Dataset:
    """The infinite batches of `images(..., start_batch=...)`, each cut to `rows` (first row,
    row count; see `kwgan.data.batches.shard_rows`). Sources that allow random access are
    read by index (`_indexed_stream`); the others in order (`_sequential_stream`).

    `to_model` maps a raw example to what the model gets (`kwgan.data.pixels.to_model`);
    `examples(shuffle=..., stream=...)` builds the source's model examples in order;
    `memory` holds the raw images and labels of an in-memory source (see
    `kwgan.data.sources.in_memory`).
    """
    import tensorflow as tf

    order = dict(
        batch_size=batch_size, shuffle=shuffle, seed=seed, start_batch=start_batch, rows=rows
    )
    if cache is True:
        table = tf.nest.map_structure(tf.convert_to_tensor, collect(examples(shuffle=False)))
        count = len(tf.nest.flatten(table)[0])

        def fetch(index: tf.Tensor) -> Any:
            return tf.nest.map_structure(lambda column: tf.gather(column, index), table)

    elif memory is not None:
        raw_images, raw_labels = map(tf.convert_to_tensor, memory)
        count = len(memory[0])

        def fetch(index: tf.Tensor) -> Any:
            example = {"image": tf.gather(raw_images, index)}
            return to_model({**example, "label": tf.gather(raw_labels, index)})

    elif name == "folder":
        files = image_files(data_dir)
        check_image_files(files)
        file_names, count = tf.constant(files), len(files)

        def fetch(index: tf.Tensor) -> Any:
            return to_model(decode_file(tf.gather(file_names, index)))

    else:
        ordered = examples(shuffle=shuffle, stream=True)
        if cache is not False:
            ordered = ordered.cache(os.fspath(cache))
        count = int(ordered.cardinality())
        if count < batch_size:
            raise too_few_examples(name, split, batch_size)
        return _sequential_stream(ordered, count, **order)
    if count < batch_size:
        raise too_few_examples(name, split, batch_size)
    return _indexed_stream(fetch, count, **order)


def _indexed_stream(
    fetch: Callable[[tf.Tensor], Any],
    count: int,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    start_batch: int,
    rows: tuple[int, int],
) -> tf.data.Dataset:
    """Batches of `fetch(i)`, `i` in `[0, count)`, from global batch `start_batch` on; of
    each, only the `rows` (first row, row count) are fetched.

    Each epoch holds the `m = count // batch_size * batch_size` examples that fill whole
    batches, so no batch straddles two epochs. Example `k` of the stream is position
    `k % m` of epoch `k // m`; shuffled, that position holds the source index
    `index_shuffle(position, seed=[seed, epoch])`, a stateless pseudorandom permutation of
    `[0, count)` evaluated one index at a time. No order is ever materialised, starting at
    any batch costs nothing, and only the examples yielded are fetched (decoded, resized).
    The examples left over past `m` differ from epoch to epoch.
    """
    import tensorflow as tf

    per_epoch = count // batch_size * batch_size

    def example(k: tf.Tensor) -> Any:
        epoch, position = k // per_epoch, k % per_epoch
        if shuffle:
            position = tf.random.experimental.index_shuffle(
                position,
                seed=tf.stack([tf.constant(seed, tf.int64), epoch]),
                max_index=tf.constant(count - 1, tf.int64),
            )
        return fetch(position)

    first, size = rows

    def stream_position(j: tf.Tensor) -> tf.Tensor:  # j counts the rows this stream yields
        return j // size * batch_size + first + j % size

    examples = tf.data.Dataset.counter(start_batch * size).map(stream_position)
    examples = examples.map(example, num_parallel_calls=tf.data.AUTOTUNE)
    return examples.batch(size, drop_remainder=True)


def _sequential_stream(
    examples: tf.data.Dataset,
    count: int,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    start_batch: int,
    rows: tuple[int, int],
) -> tf.data.Dataset:
    """Batches of a source read in order, epoch after epoch, from global batch `start_batch`,
    each cut to its `rows` (first row, row count) after the whole batch is read.

    Epoch `e` is `examples` (a fixed order: see `kwgan.data.tfds.tfds_examples`), shuffled by
    `_block_shuffle` from `(seed, e)`, in `count // batch_size` whole batches. A resumed stream
    starts at its epoch and skips the batches already consumed in it, so it re-reads (and
    resizes) that epoch up to the resume point: up to one epoch of reading, no more.
    """
    import tensorflow as tf

    first_epoch, done = divmod(start_batch, count // batch_size)

    def epoch_batches(epoch: tf.Tensor) -> tf.data.Dataset:
        epoch_examples = _block_shuffle(examples, seed, epoch) if shuffle else examples
        return epoch_examples.batch(batch_size, drop_remainder=True)

    batches = tf.data.Dataset.counter(first_epoch).flat_map(epoch_batches).skip(done)
    return sliced(batches, rows, batch_size)


def sliced(batches: tf.data.Dataset, rows: tuple[int, int], batch_size: int) -> tf.data.Dataset:
    """`batches` of `batch_size` (images, or images and labels) cut to `rows` (first row,
    row count); unchanged when those are the whole batch."""
    first, size = rows
    if size == batch_size:
        return batches

    def cut(*columns: tf.Tensor) -> Any:
        kept = tuple(column[first : first + size] for column in columns)
        return kept if len(kept) > 1 else kept[0]

    return batches.map(cut)


def split_by_data(stream: tf.data.Dataset) -> tf.data.Dataset:
    """`stream`, which `tf.distribute` splits batch by batch among the workers of a
    multi-worker strategy (auto-shard policy DATA), as it splits each batch among the
    replicas: each worker gets its rows of the global batches one process would train on.
    The default policy would give each worker other input files where it finds some (the
    tensorflow-datasets sources), and so other batches."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return stream.with_options(options)


def _block_shuffle(examples: tf.data.Dataset, seed: int, epoch: tf.Tensor) -> tf.data.Dataset:
    """`examples` shuffled within consecutive blocks of `SHUFFLE_BUFFER`, each block by a
    permutation drawn from `(seed, epoch, block)`.

    This replaces `Dataset.shuffle`, whose order also depends on TensorFlow's global seed
    (`tf.random.set_seed`, `keras.utils.set_random_seed`): the stateless ops used here depend
    on their arguments alone, so a resumed process sees the same order whatever it seeded.
    """
    import tensorflow as tf

    def shuffle_block(block_index: tf.Tensor, block: Any) -> Any:
        epoch_seed = tf.stack([tf.constant(seed, tf.int64), epoch])
        block_seed = tf.random.experimental.stateless_fold_in(epoch_seed, block_index)
        size = tf.shape(tf.nest.flatten(block)[0])[0]
        order = tf.random.experimental.stateless_shuffle(tf.range(size), seed=block_seed)
        return tf.nest.map_structure(lambda column: tf.gather(column, order), block)

    return examples.batch(SHUFFLE_BUFFER).enumerate().map(shuffle_block).unbatch()
