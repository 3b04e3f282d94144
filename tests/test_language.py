"""The character-level language model (WGAN-GP §5.5): corpus preparation, the 1-D ResNets,
the n-gram Jensen–Shannon divergence, and experiments/language.py end to end."""

import collections
import importlib.util
import json
import math

import keras
import numpy as np
import pytest

import kwgan
from conftest import to_numpy
from kwgan.architectures.language import language_critic, language_generator, residual_block_1d
from kwgan.data import text
from kwgan.errors import DataNotFoundError
from kwgan.experiment import LanguageConfig
from kwgan.metrics import ngrams

HAS_TFDS = importlib.util.find_spec("tensorflow_datasets") is not None


# -- n-gram Jensen–Shannon divergence -----------------------------------------------------


def test_js_divergence_by_hand():
    # Unigrams: P = (½ a, ½ b), Q = (1 a), so M = (¾, ¼).
    p = ngrams.ngram_model(1, np.array([[0, 1], [0, 1]]))
    q = ngrams.ngram_model(1, np.array([[0, 0]]))
    kl_p_m = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    kl_q_m = 1.0 * math.log2(1.0 / 0.75)
    assert ngrams.js_divergence(p, q) == pytest.approx(0.5 * (kl_p_m + kl_q_m), abs=1e-12)
    assert ngrams.js_divergence(p, q) == pytest.approx(0.3112781244591328, abs=1e-12)
    assert ngrams.js_divergence(q, p) == pytest.approx(ngrams.js_divergence(p, q), abs=1e-12)
    assert ngrams.js_divergence(p, p) == 0.0


def test_bigrams_count_every_window_and_disjoint_support_is_one_bit():
    model = ngrams.ngram_model(2, np.array([[1, 2, 1, 2]]))
    assert model.ngrams.tolist() == [[1, 2], [2, 1]]
    assert model.counts.tolist() == [2, 1]
    other = ngrams.ngram_model(2, np.array([[3, 3, 3]]))
    assert ngrams.js_divergence(model, other) == pytest.approx(1.0, abs=1e-12)


def reference_js(n: int, p_rows, q_rows) -> float:
    """`NgramLanguageModel.js_with` of language_helpers.py, transcribed with dictionaries."""

    def counts(rows):
        return collections.Counter(
            tuple(row[i : i + n]) for row in rows for i in range(len(row) - n + 1)
        )

    cp, cq = counts(p_rows), counts(q_rows)
    tp, tq = sum(cp.values()), sum(cq.values())

    def log_p(c, t, g):
        return math.log(c[g]) - math.log(t) if g in c else -math.inf

    def kl(ca, ta, cb, tb):
        total = 0.0
        for g in ca:
            la, lb = log_p(ca, ta, g), log_p(cb, tb, g)
            lm = np.logaddexp(la - math.log(2), lb - math.log(2))
            total += math.exp(la) * (la - lm)
        return total

    return 0.5 * (kl(cp, tp, cq, tq) + kl(cq, tq, cp, tp)) / math.log(2)


@pytest.mark.parametrize("n", ngrams.ORDERS)
def test_js_divergence_matches_the_reference_formula(n):
    rng = np.random.default_rng(n)
    samples, corpus = rng.integers(0, 5, (40, 8)), rng.integers(0, 6, (90, 8))
    ours = ngrams.js_divergences(samples, ngrams.ngram_models(corpus, orders=(n,)))
    assert ours == {f"js{n}": pytest.approx(reference_js(n, samples, corpus), abs=1e-12)}


def test_baseline_is_zero_when_the_held_out_lines_match_the_rest():
    lines = np.tile(np.array([[1, 2, 3, 1]]), (6, 1))
    assert ngrams.baseline(lines, held_out=2) == {f"js{n}": 0.0 for n in ngrams.ORDERS}
    with pytest.raises(kwgan.errors.DataError, match="holds out 6"):
        ngrams.baseline(lines, held_out=6)


# -- corpus preparation ---------------------------------------------------------------------


def test_prepare_truncates_pads_and_maps_rare_characters_to_unk():
    codes, vocabulary = text.prepare(["aab", "abcd", "a"], seq_len=3, max_vocab=4, seed=1)
    # Counts over "aab", "abc", "a``": a 4, b 2, ` 2, c 1 → 'unk', a, then b and ` (tied).
    assert vocabulary[:2] == ("unk", "a") and set(vocabulary[2:]) == {"b", "`"}
    assert codes.dtype == np.int32 and codes.shape == (3, 3)
    assert sorted(text.decode(codes, vocabulary)) == ["a``", "aab", "abunk"]


def test_prepare_shuffles_by_seed():
    lines = [f"line {i}" for i in range(50)]
    first, vocabulary = text.prepare(lines, seq_len=8, seed=0)
    again, _ = text.prepare(lines, seq_len=8, seed=0)
    other, _ = text.prepare(lines, seq_len=8, seed=1)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert sorted(text.decode(first, vocabulary)) == sorted(s.ljust(8, "`") for s in lines)


def test_one_hot_batches_resume_on_the_same_batches():
    codes, vocabulary = text.prepare([f"{i:03d}" for i in range(40)], seq_len=4)
    whole = text.OneHotBatches(codes, len(vocabulary), batch_size=8, seed=3)
    resumed = text.OneHotBatches(codes, len(vocabulary), batch_size=8, seed=3, start_batch=7)
    batch = resumed[0]
    assert batch.shape == (8, 4, len(vocabulary)) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch.sum(-1), 1.0)
    whole.on_epoch_end()  # 5 batches per epoch: global batch 7 is item 2 of epoch 1
    np.testing.assert_array_equal(batch, whole[2])


def test_text_lines_reads_lines_without_their_ends(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes("first line\r\nsecond ünïcode\nthird\n".encode())
    assert text.text_lines(path) == ["first line", "second ünïcode", "third"]
    assert text.text_lines(path, max_examples=2) == ["first line", "second ünïcode"]
    with pytest.raises(DataNotFoundError, match="does not exist"):
        text.text_lines(tmp_path / "missing.txt")


def test_default_corpus_is_the_python_reference_prose():
    sentences = text.corpus_lines("pydoc")
    assert len(sentences) > 2000
    assert 'The "if" statement is used for conditional execution:' in sentences
    assert not any(s.startswith(" ") or set(s) <= set("*=") for s in sentences)


@pytest.mark.skipif(not HAS_TFDS, reason="needs tensorflow-datasets")
def test_lm1b_is_read_through_tensorflow_datasets(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=7):
        lines = text.corpus_lines("lm1b", max_examples=5)
    assert len(lines) == 5 and all(isinstance(line, str) for line in lines)
    with pytest.raises(DataNotFoundError, match="tfds build lm1b"):
        text.corpus_lines("lm1b", data_dir=tmp_path)


# -- networks -------------------------------------------------------------------------------


def test_parameter_counts_by_hand():
    generator = language_generator(5, seq_len=4, dim=3, latent_dim=2, blocks=1)
    critic = language_critic(5, seq_len=4, dim=3, blocks=1)
    block = 2 * (5 * 3 * 3 + 3)  # two kernel-5 convs 3 → 3 with biases
    assert generator.count_params() == (2 * 12 + 12) + block + (3 * 5 + 5)
    assert critic.count_params() == (5 * 3 + 3) + block + (12 + 1)


def test_generator_outputs_character_distributions_and_round_trips_its_config():
    keras.utils.set_random_seed(0)
    generator = language_generator(7, seq_len=6, dim=8, latent_dim=4)
    noise = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    out = to_numpy(generator(noise))
    assert out.shape == (3, 6, 7)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    clone = keras.Model.from_config(generator.get_config())
    clone.set_weights(generator.get_weights())
    np.testing.assert_allclose(to_numpy(clone(noise)), out, rtol=1e-5, atol=1e-6)


def test_residual_block_adds_three_tenths_of_its_branch():
    x = keras.Input((3, 2))
    block = keras.Model(x, residual_block_1d(x, "block"))
    identity = np.zeros((5, 2, 2), "float32")
    identity[2] = np.eye(2)  # the centre tap copies each channel
    for name in ("block_conv1", "block_conv2"):
        block.get_layer(name).set_weights([identity, np.zeros(2, "float32")])
    inputs = np.array([[[1.0, -2.0], [0.5, 3.0], [-1.0, 0.0]]], "float32")
    expected = inputs + 0.3 * np.maximum(inputs, 0.0)  # conv(relu(conv(relu(x)))) = relu(x)
    np.testing.assert_allclose(to_numpy(block(inputs)), expected, rtol=1e-6)


def test_convolutions_use_tflib_he_initialisation():
    critic = language_critic(30, seq_len=4, dim=20, blocks=1)
    kernel = to_numpy(critic.get_layer("critic_block1_conv1").kernel)
    limit = math.sqrt(3.0) * math.sqrt(4.0 / ((20 + 20) * 5))
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.9 * limit  # uniform over the whole ±limit range


def test_wgan_gp_trains_on_one_hot_sequences():
    codes, vocabulary = text.prepare([f"word {i}" for i in range(32)], seq_len=6)
    keras.utils.set_random_seed(0)
    gan = kwgan.GAN(
        language_generator(len(vocabulary), seq_len=6, dim=8, latent_dim=4, blocks=1),
        language_critic(len(vocabulary), seq_len=6, dim=8, blocks=1),
        seed=0,
    )
    gan.compile("wgan-gp", critic_steps=2)
    data = text.OneHotBatches(codes, len(vocabulary), batch_size=8)
    history = gan.fit(data, epochs=1, steps_per_epoch=4, verbose=0)
    assert int(to_numpy(gan.generator_iterations)) == 2
    assert np.isfinite(history.history["gp"]).all() and history.history["gp"][-1] > 0


# -- experiments/language.py ----------------------------------------------------------------


def test_experiment_writes_samples_divergences_and_figure_and_resumes(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"sentence number {i} of a tiny corpus\n" for i in range(700)))
    out = tmp_path / "run"
    config = LanguageConfig(
        text=str(corpus), dim=4, batch_size=16, critic_steps=2, eval_every=1, eval_samples=32
    )
    kwgan.experiment.run(config.replace(steps=1, out=str(out)))
    kwgan.experiment.run(config.replace(steps=2, out=str(out)))  # continues the run

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["generator_iterations"] == 2
    assert [e["iteration"] for e in metrics["evaluations"]] == [1, 2]
    assert set(metrics["baseline"]) == {"js1", "js2", "js3", "js4"}
    assert all(0.0 <= metrics["final"][f"js{n}"] <= 1.0 for n in ngrams.ORDERS)
    samples = (out / "samples" / "samples_2.txt").read_text(encoding="utf-8").splitlines()
    assert len(samples) == 32
    assert (out / "js.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.backend_neutral
def test_experiment_refuses_a_missing_corpus_before_writing(tmp_path):
    config = LanguageConfig(text=str(tmp_path / "missing.txt"), out=str(tmp_path / "x"))
    with pytest.raises(DataNotFoundError, match="does not exist"):
        kwgan.experiment.run(config)
    assert not (tmp_path / "x").exists()
