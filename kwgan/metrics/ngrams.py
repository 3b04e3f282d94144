"""Character n-gram statistics: how the WGAN-GP reference scores its language model (§5.5).

`gan_language.py` logs, every 100 generator iterations, the Jensen–Shannon divergence in
bits between the character n-gram distributions (n = 1 … 4) of 640 generated lines and of
the whole corpus (`NgramLanguageModel.js_with` in `language_helpers.py`). At start-up it
prints the same divergences between the first 640 lines and the rest: a baseline of what
two samples of real text score, since no finite sample reaches 0.

An n-gram here is any n consecutive positions of a padded sequence, padding included, as
in the reference. Sequences are integer codes (`kwgan.data.text.prepare`), so counting is
NumPy's `unique` over one integer per n-gram rather than a dictionary of tuples.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from kwgan.errors import ConfigError, DataError

ORDERS = (1, 2, 3, 4)  # the n of every n-gram divergence gan_language.py logs
BASELINE_LINES = 640  # 10 × BATCH_SIZE lines held out for the reference's baseline


@dataclasses.dataclass(frozen=True)
class NgramModel:
    """The empirical distribution of the n-grams of a set of sequences.

    Attributes:
        n: the n-gram length.
        ngrams: int `[K, n]`, each distinct n-gram once, sorted.
        counts: int64 `[K]`, how often each occurs.
    """

    n: int
    ngrams: np.ndarray
    counts: np.ndarray

    @property
    def probabilities(self) -> np.ndarray:
        return self.counts / self.counts.sum()


def ngram_model(n: int, sequences: np.ndarray) -> NgramModel:
    """Counts the n-grams of integer sequences `[N, L]` (`NgramLanguageModel(n, samples)`)."""
    sequences = np.asarray(sequences)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}.")
    if sequences.ndim != 2 or not np.issubdtype(sequences.dtype, np.integer):
        raise DataError(
            f"sequences must be integer codes of shape (N, L), got {sequences.dtype} "
            f"{sequences.shape}."
        )
    if sequences.shape[0] == 0 or sequences.shape[1] < n:
        raise DataError(
            f"{sequences.shape[0]} sequences of length {sequences.shape[1]} have no {n}-grams."
        )
    keys, base = _keys(sequences, n)
    unique, counts = np.unique(keys, return_counts=True)
    digits = base ** np.arange(n - 1, -1, -1, dtype=np.int64)
    ngrams = (unique[:, None] // digits) % base  # the keys' digits, most significant first
    return NgramModel(n, ngrams, counts.astype(np.int64))


def _keys(sequences: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Every n-gram as one int64, its codes the digits of a number in base max code + 1, so
    that counting is a sort of integers (ordered as the rows would be) and a corpus of
    10 M lines needs one int64 per position, not a copy of every window."""
    if sequences.min() < 0:
        raise DataError("sequences must be non-negative character codes.")
    base = int(sequences.max()) + 1
    if base**n >= 2**63:
        raise ConfigError(f"{n}-grams of {base} symbols do not fit an int64 key.")
    width = sequences.shape[1] - n + 1
    keys = np.zeros((len(sequences), width), dtype=np.int64)
    for i in range(n):
        keys = keys * base + sequences[:, i : i + width]
    return keys.reshape(-1), base


def js_divergence(p: NgramModel, q: NgramModel) -> float:
    """The Jensen–Shannon divergence between two n-gram distributions, in bits (0 … 1).

    JS = ½ KL(P ‖ M) + ½ KL(Q ‖ M) with M = ½ (P + Q), over the union of the two models'
    n-grams; `js_with` of the reference computes the same with log-likelihoods.
    """
    if p.n != q.n:
        raise ConfigError(f"Cannot compare {p.n}-grams with {q.n}-grams.")
    _, slots = np.unique(np.concatenate([p.ngrams, q.ngrams]), axis=0, return_inverse=True)
    slots = slots.reshape(-1)
    size = int(slots.max()) + 1
    pp = np.bincount(slots[: len(p.counts)], weights=p.probabilities, minlength=size)
    qq = np.bincount(slots[len(p.counts) :], weights=q.probabilities, minlength=size)
    m = 0.5 * (pp + qq)
    return float(0.5 * (_kl(pp, m) + _kl(qq, m)) / math.log(2.0))


def _kl(p: np.ndarray, m: np.ndarray) -> float:
    """KL(p ‖ m) in nats, where m > 0 wherever p > 0 (0 · log 0 = 0)."""
    support = p > 0
    return float(np.sum(p[support] * np.log(p[support] / m[support])))


def ngram_models(sequences: np.ndarray, orders: Sequence[int] = ORDERS) -> dict[int, NgramModel]:
    """One model per n in `orders`, e.g. the corpus side of every logged divergence."""
    return {n: ngram_model(n, sequences) for n in orders}


def js_divergences(samples: np.ndarray, reference: dict[int, NgramModel]) -> dict[str, float]:
    """`{"js1": …, "js4": …}`: the divergence of `samples`' n-grams from each reference model,
    keyed as `gan_language.py` plots them."""
    return {
        f"js{n}": js_divergence(ngram_model(n, samples), model) for n, model in reference.items()
    }


def baseline(
    sequences: np.ndarray, held_out: int = BASELINE_LINES, orders: Sequence[int] = ORDERS
) -> dict[str, float]:
    """The reference's "validation set JSD": the first `held_out` sequences against the rest,
    i.e. what real text scores on a sample of the size the generator is scored on."""
    if len(sequences) <= held_out:
        raise DataError(
            f"The corpus has {len(sequences)} lines; the baseline holds out {held_out} and "
            "needs more."
        )
    return js_divergences(sequences[:held_out], ngram_models(sequences[held_out:], orders))
