"""Character sequences for the WGAN-GP paper's language model (§5.5, Table 4).

The preparation is `load_dataset` of the reference's `language_helpers.py`: every line is cut
to its first `seq_len` (32) characters and right-padded with the backtick '`'; the lines are
shuffled; the vocabulary is 'unk' (index 0) followed by the most frequent characters, up to
`max_vocab` (2048) entries in all, and rarer characters become 'unk'. Sequences are int32
character codes `[N, seq_len]`; the networks see them one-hot, `[B, seq_len, V]` float32,
and generated softmax outputs are decoded by argmax, as `gan_language.py` does.

Three corpora, one line per example:

* `"lm1b"`: the One Billion Word benchmark the paper trained on, read through
  tensorflow-datasets where it is prepared (`tfds build lm1b`); kwgan never downloads it.
* `text_lines(path)`: any UTF-8 text file, one example per line (`--text FILE`).
* `"pydoc"`, the offline default: the English prose of the Python Language Reference that
  CPython ships in its standard library (`pydoc_data.topics`, the text behind `help()`,
  under the PSF licence), split into sentences, one per line as in Billion Word. It is
  real English written by people, always installed, and about 2 500 sentences: small
  beside Billion Word's 30 M, and technical, with quotes and dunder names, so its n-gram
  baseline is its own.
"""

from __future__ import annotations

import collections
import hashlib
import importlib
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from kwgan.data.images import ImageBatches
from kwgan.errors import ConfigError, DataError, DataNotFoundError, TensorFlowMissingError

PAD = "`"  # language_helpers.py pads every line with backticks
UNK = "unk"  # index 0 of the vocabulary: every character too rare to have its own
SEQ_LEN = 32
MAX_VOCAB = 2048
MAX_EXAMPLES = 10_000_000  # gan_language.py's MAX_N_EXAMPLES
CORPORA = ("pydoc", "lm1b")

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_UNDERLINE = set('*=-^~"')


def corpus_lines(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    max_examples: int = MAX_EXAMPLES,
) -> list[str]:
    """The first `max_examples` lines of a named corpus (see the module docstring)."""
    if name == "pydoc":
        return prose_sentences()[:max_examples]
    if name == "lm1b":
        return lm1b_lines(data_dir=data_dir, max_examples=max_examples)
    raise ConfigError(f"Unknown corpus {name!r}; choose one of {', '.join(CORPORA)}.")


def prose_sentences() -> list[str]:
    """The sentences of the Python Language Reference's prose, in its topics' order.

    Paragraphs are the runs of unindented lines in `pydoc_data.topics`: indented blocks are
    grammar rules and code examples, and lines of '*' or '=' underline headings, so both
    are left out. Each paragraph is joined and split after '.', '!' or '?'.
    """
    try:
        from pydoc_data.topics import topics
    except ImportError:
        raise DataNotFoundError(
            "This Python has no pydoc_data (some distributions ship it separately, e.g. "
            "Debian's libpython3-stdlib); pass --text FILE or --corpus lm1b instead."
        ) from None
    sentences = []
    for key in sorted(topics):
        for paragraph in _paragraphs(topics[key].splitlines()):
            sentences.extend(_SENTENCE_END.split(paragraph))
    return sentences


def _paragraphs(lines: Iterable[str]) -> Iterable[str]:
    prose: list[str] = []
    for line in [*lines, ""]:
        if line and not line[0].isspace() and not set(line) <= _UNDERLINE:
            prose.append(line.strip())
        elif prose:
            yield " ".join(prose)
            prose = []


def text_lines(path: str | os.PathLike, *, max_examples: int = MAX_EXAMPLES) -> list[str]:
    """The first `max_examples` lines of a UTF-8 text file, without their line ends."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataNotFoundError(f"Text file {path!r} does not exist.")
    lines = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if len(lines) == max_examples:
                    break
                lines.append(line.rstrip("\r\n"))
    except UnicodeDecodeError as error:
        raise DataError(f"{path!r} is not UTF-8 text ({error}); convert it first.") from None
    return lines


def lm1b_lines(
    *, data_dir: str | os.PathLike | None = None, max_examples: int = MAX_EXAMPLES
) -> list[str]:
    """The first `max_examples` sentences of tensorflow-datasets' prepared `lm1b` train split
    (the reference reads the first 99 training shards until it has 10 M lines)."""
    try:
        tfds = importlib.import_module("tensorflow_datasets")
    except ImportError as error:
        raise TensorFlowMissingError(
            "Reading lm1b needs tensorflow-datasets: pip install 'kwgan[tensorflow]'; or "
            "train on the default corpus or a --text file."
        ) from error
    builder = tfds.builder("lm1b", data_dir=None if data_dir is None else os.fspath(data_dir))
    try:
        dataset = builder.as_dataset(split="train", shuffle_files=False)
    except AssertionError:  # tensorflow-datasets' way of saying "not prepared"
        if builder.data_path.exists():
            raise
        root = os.fspath(builder.data_dir_root)
        raise DataNotFoundError(
            f"lm1b is not prepared in data_dir={root!r}, and kwgan never downloads it (about "
            f"1.7 GB): run `tfds build lm1b --data_dir={root}`, or pass the directory where "
            "it is prepared as --data_dir."
        ) from None
    return [
        example["text"].decode("utf-8") for example in tfds.as_numpy(dataset.take(max_examples))
    ]


def prepare(
    lines: Sequence[str],
    *,
    seq_len: int = SEQ_LEN,
    max_vocab: int = MAX_VOCAB,
    seed: int = 0,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """`language_helpers.load_dataset`: returns the shuffled lines as int32 codes
    `[N, seq_len]` and the vocabulary (its `inv_charmap`), 'unk' first.

    Characters of equal count keep the order in which the shuffled lines first use them,
    as `collections.Counter.most_common` does in the reference.
    """
    if seq_len < 1 or max_vocab < 2:
        raise ConfigError(f"Need seq_len >= 1 and max_vocab >= 2; got {seq_len}, {max_vocab}.")
    if not lines:
        raise DataError("The corpus has no lines; check the file or the corpus name.")
    padded = [line[:seq_len].ljust(seq_len, PAD) for line in lines]
    order = np.random.default_rng(seed).permutation(len(padded))
    padded = [padded[i] for i in order]
    counts = collections.Counter(char for line in padded for char in line)
    vocabulary = (UNK, *(char for char, _ in counts.most_common(max_vocab - 1)))
    index = {char: i for i, char in enumerate(vocabulary)}
    codes = np.array([[index.get(c, 0) for c in line] for line in padded], dtype=np.int32)
    return codes, vocabulary


def describe(
    codes: np.ndarray, vocabulary: Sequence[str], *, source: str | os.PathLike
) -> dict[str, Any]:
    """What a language run trains on, in the form of `kwgan.data.describe`, for the resume
    check of `kwgan.run.Run`: `source` (a text file, or a corpus's name), the lines, the
    bytes of the prepared codes, and a digest of the codes and vocabulary themselves. They
    are in memory already, so the digest is exact: a text file edited in place, or the
    reference prose of another Python, is other data."""
    digest = hashlib.blake2b(np.ascontiguousarray(codes, np.int32).tobytes(), digest_size=16)
    digest.update("\0".join(vocabulary).encode())
    source = os.fspath(source)
    return {
        "dataset": "text",
        "split": "train",
        "source": os.path.abspath(source) if os.path.isfile(source) else source,
        "files": int(os.path.isfile(source)),
        "bytes": int(codes.nbytes),
        "examples": len(codes),
        "digest": digest.hexdigest(),
    }


def one_hot(codes: np.ndarray, vocab_size: int) -> np.ndarray:
    """float32 `[..., vocab_size]` one-hot vectors of integer codes: what the critic sees of
    real text (`tf.one_hot(real_inputs_discrete, len(charmap))` in `gan_language.py`)."""
    return np.eye(vocab_size, dtype=np.float32)[np.asarray(codes)]


def decode(codes: np.ndarray, vocabulary: Sequence[str]) -> list[str]:
    """Each row of character codes `[N, L]` as a string ('unk' spelt out, as the reference
    writes its samples). Pass `probabilities.argmax(-1)` for a generator's softmax output."""
    return ["".join(vocabulary[c] for c in row) for row in np.asarray(codes)]


class OneHotBatches(ImageBatches):
    """`ImageBatches` over int32 character codes, yielding one-hot float32 batches
    `[batch_size, seq_len, V]`: the same resumable order (a permutation per data epoch,
    drawn from `(seed, epoch)`; `start_batch` global batches skipped), one-hot encoded per
    batch so that a large corpus is never held one-hot in memory."""

    def __init__(self, codes: np.ndarray, vocab_size: int, **kwargs):
        super().__init__(codes, **kwargs)
        self.vocab_size = int(vocab_size)

    def __getitem__(self, index: int) -> np.ndarray:
        return one_hot(super().__getitem__(index), self.vocab_size)
