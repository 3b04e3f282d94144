"""Global batches: where a resumed pipeline starts, and which rows of each a process feeds.

Every kwgan data pipeline counts *global* batches: the batches one process would train on.
`start_batch` is how many of them a checkpointed run has consumed, so a resumed run starts
on the batch it would have seen next (`kwgan.data.toy`, `kwgan.data.images`,
`kwgan.data.ImageBatches`). Under data parallelism (`kwgan.distribute`) process `index` of
`count` feeds the `index`-th of `count` equal slices of every global batch, `shard=(index,
count)`. The checks live here once, so every pipeline says the same thing.
"""

from __future__ import annotations

import numpy as np

from kwgan.errors import ConfigError, DataError, check_positive_int


def check_start_batch(start_batch: object) -> None:
    """Raises a `ConfigError` unless `start_batch`, a count of batches already consumed, is
    an int >= 0."""
    if isinstance(start_batch, bool) or not isinstance(start_batch, (int, np.integer)):
        raise ConfigError(
            f"start_batch must be an int, the number of batches already consumed; "
            f"got {start_batch!r}."
        )
    if start_batch < 0:
        raise ConfigError(
            f"start_batch must be >= 0 (the number of batches already consumed), got "
            f"{start_batch}; pass 0 to start from the first batch."
        )


def shard_rows(shard: tuple[int, int] | None, batch_size: int) -> tuple[int, int]:
    """(first row, row count) of each global batch of `batch_size` that process `index` of
    `count` feeds, `shard=(index, count)`: the `index`-th of `count` equal slices (see
    `kwgan.distribute.process_rows`); the whole batch for `shard=None`."""
    if shard is None:
        return 0, batch_size
    index, count = shard
    check_positive_int(count, "the shard count")
    if (
        isinstance(index, bool)
        or not isinstance(index, (int, np.integer))
        or not 0 <= index < count
    ):
        raise ConfigError(f"shard=(index, count) needs 0 <= index < {count}, got {shard!r}.")
    if batch_size % count:
        raise ConfigError(
            f"batch_size={batch_size} (the global batch) does not split evenly among {count} "
            "processes; pass a batch_size that divides by the number of processes."
        )
    return int(index) * (batch_size // count), batch_size // count


def too_few_examples(name: str, split: str, batch_size: int) -> DataError:
    """The error for a split of dataset `name` that holds no complete batch."""
    return DataError(
        f"Split {split!r} of {name!r} has fewer than batch_size={batch_size} examples, "
        "so no complete batch remains; pass a smaller batch_size or a larger split."
    )
