"""Callbacks that count generator iterations, and the plots' median filter.

Every callback is exercised through `fit` on a tiny GAN. The counts are checked against
hand-computed schedules and against the model's own counters (read inside the callbacks:
on JAX `Callback.model` syncs the jitted state first, so the values are the live ones).
"""

import io
import os
import re
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import kwgan
from conftest import to_numpy
from kwgan.callbacks import (
    EvaluateEvery,
    GeneratorIterationCallback,
    GeneratorProgbar,
    LossHistory,
    SampleGrid,
    StopAtGeneratorIteration,
    WEstimateCurve,
)

# critic steps before generator iteration g = 0, 1, 2, …: 3, 3, 2, 2, 3, 2, 2, 2, 3, …
# (warm-up while g < 2 and whenever g % 4 == 0)
WARMUP = dict(critic_steps=2, warmup_steps=3, warmup_iterations=2, warmup_every=4)


def counter(x) -> int:
    return int(to_numpy(x))


def toy_data(steps: int, batch_size: int = 8):
    return kwgan.data.toy("8gaussians", batch_size=batch_size, steps_per_epoch=steps)


class StepRecorder(GeneratorIterationCallback):
    """After every fit step: (callback's generator iteration, model's counter, model's
    cycle step); and the generator iterations the callback announced."""

    def __init__(self):
        super().__init__()
        self.steps, self.announced = [], []

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        gan = self.model
        self.steps.append(
            (
                self.generator_iteration,
                counter(gan.generator_iterations),
                counter(gan.critic_cycle_step),
            )
        )

    def on_generator_iteration_end(self, iteration, logs):
        self.announced.append(iteration)


# -- GeneratorIterationCallback ---------------------------------------------------------


def test_counts_generator_iterations_like_the_model_with_warmup_across_fits(tiny_gan):
    gan = tiny_gan(dim=8)
    gan.compile("wgan-gp", schedule=kwgan.CriticSchedule(**WARMUP))
    recorder = StepRecorder()

    gan.fit(toy_data(7), verbose=0, callbacks=[recorder])  # 3 + 3 + 1 of the next 2
    assert recorder.generator_iteration == counter(gan.generator_iterations) == 2
    assert counter(gan.critic_cycle_step) == 1

    gan.fit(toy_data(8), verbose=0, callbacks=[recorder])  # 1 + 2 + 3 + 2: up to 15 = 3+3+2+2+3+2
    assert recorder.generator_iteration == counter(gan.generator_iterations) == 6
    assert counter(gan.critic_cycle_step) == 0

    # Step by step, the replayed schedule agrees with the model's counter.
    assert [callback == model for callback, model, _ in recorder.steps] == [True] * 15
    # Generator iterations end after fit steps 3, 6, 8, 10, 13 and 15.
    ends = [i + 1 for i, (g, _, cycle) in enumerate(recorder.steps) if cycle == 0]
    assert ends == [3, 6, 8, 10, 13, 15]
    assert recorder.announced == [1, 2, 3, 4, 5, 6]


def test_counts_generator_iterations_of_a_fixed_generator():
    """A generator without weights (WGAN-GP Fig. 1a) still has generator iterations."""
    keras.utils.set_random_seed(0)
    bank = kwgan.data.sample("8gaussians", 1000, seed=7)
    gan = kwgan.GAN(
        kwgan.architectures.fixed_generator(bank), kwgan.architectures.toy_critic(dim=8), seed=0
    )
    gan.compile("wgan", critic_steps=2, warmup=False)
    recorder, history = StepRecorder(), LossHistory()
    gan.fit(toy_data(5), verbose=0, callbacks=[recorder, history])
    assert [callback for callback, _, _ in recorder.steps] == [
        model for _, model, _ in recorder.steps
    ]
    assert recorder.generator_iteration == counter(gan.generator_iterations) == 2
    assert history.iterations == [1, 2] and history.history["g_loss"] == [0.0, 0.0]
    assert counter(gan.critic_optimizer.iterations) == 5
    assert counter(gan.generator_optimizer.iterations) == 0


def test_stop_at_generator_iteration_stops_exactly(tiny_gan):
    gan = tiny_gan(dim=8)
    gan.compile("wgan-gp")  # 5 critic steps per generator iteration
    gan.fit(toy_data(100), epochs=3, verbose=0, callbacks=[StopAtGeneratorIteration(3)])
    assert counter(gan.generator_iterations) == 3
    assert counter(gan.critic_optimizer.iterations) == 15
    assert counter(gan.generator_optimizer.iterations) == 3

    # The target is a total: a second fit goes on from 3 to 5, here with the warm-up schedule.
    gan.compile("wgan-gp", schedule=kwgan.CriticSchedule(**WARMUP))
    gan.fit(toy_data(100), verbose=0, callbacks=[StopAtGeneratorIteration(5)])
    assert counter(gan.generator_iterations) == 5
    assert counter(gan.critic_optimizer.iterations) == 2 + 3  # before g = 3, then g = 4 (warm-up)


# -- TimeLimit --------------------------------------------------------------------------


def test_time_limit_stops_cleanly(tiny_gan):
    gan = tiny_gan(dim=8)
    gan.compile("wgan-gp", critic_steps=1)
    evaluation = EvaluateEvery(100, lambda model, iteration: {})
    gan.fit(toy_data(50), epochs=2, verbose=0, callbacks=[evaluation, kwgan.callbacks.TimeLimit(0)])
    assert counter(gan.critic_optimizer.iterations) == 1  # the deadline had passed after step 1
    assert evaluation.results == [{"iteration": 1}]  # on_train_end still ran
    gan.fit(toy_data(3), verbose=0, callbacks=[kwgan.callbacks.TimeLimit(3600)])
    assert counter(gan.critic_optimizer.iterations) == 4


# -- LossHistory -------------------------------------------------------------------------


class BatchLogs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append({k: float(to_numpy(v)) for k, v in logs.items()})


@pytest.mark.parametrize(
    "objective, keys",
    [
        ("wgan-gp", {"d_loss", "g_loss", "w_estimate", "gp"}),
        ("dcgan", {"d_loss", "g_loss", "js_estimate"}),
    ],
)
def test_loss_history_has_one_entry_per_generator_iteration(tiny_gan, objective, keys):
    gan = tiny_gan(dim=8)
    gan.compile(objective, critic_steps=3)
    history, batches = LossHistory(), BatchLogs()
    gan.fit(toy_data(11), verbose=0, callbacks=[history, batches])  # g ends after steps 3, 6, 9

    assert history.iterations == [1, 2, 3]
    assert set(history.history) == keys
    for name in keys:
        # The logs of the critic step that closed each generator iteration.
        assert history.history[name] == pytest.approx([batches.logs[i][name] for i in (2, 5, 8)])
    # g_loss only changes when the generator trains: steps 4 and 5 still show iteration 1's.
    assert [b["g_loss"] for b in batches.logs[3:5]] == [history.history["g_loss"][0]] * 2

    gan.fit(toy_data(3), verbose=0, callbacks=[history])  # the same history keeps growing
    assert history.iterations == [1, 2, 3, 4]
    assert all(len(values) == 4 for values in history.history.values())


@pytest.mark.backend_neutral
def test_curves_that_saw_no_generator_iteration_are_empty(tmp_path):
    """A resumed run with nothing left to train reads its callbacks without a `fit`."""
    history, curve = LossHistory(), WEstimateCurve(str(tmp_path / "w.png"))
    assert (history.iterations, history.history) == ([], {})
    assert (curve.iterations, curve.history) == ([], {})
    curve.plot()  # nothing to draw
    assert not (tmp_path / "w.png").exists()


# -- EvaluateEvery -----------------------------------------------------------------------


@pytest.mark.parametrize("steps, expected", [(5, [2, 4, 5]), (4, [2, 4])])
def test_evaluate_every_and_once_at_the_end(tiny_gan, steps, expected):
    gan = tiny_gan(dim=8)
    gan.compile("wgan-gp", critic_steps=1)

    def evaluate(model, iteration):
        return {"seen": counter(model.generator_iterations)}

    evaluation = EvaluateEvery(2, evaluate)
    gan.fit(toy_data(steps), verbose=0, callbacks=[evaluation])
    # The model has exactly `iteration` generator iterations when it is evaluated.
    assert evaluation.results == [{"iteration": i, "seen": i} for i in expected]


def test_evaluate_every_rejects_non_positive():
    with pytest.raises(ValueError, match="positive"):
        EvaluateEvery(0, lambda model, iteration: {})


# -- SampleGrid --------------------------------------------------------------------------


def image_gan(seed: int = 0) -> kwgan.GAN:
    keras.utils.set_random_seed(seed)
    z = keras.Input((4,))
    x = keras.layers.Reshape((8, 8, 1))(keras.layers.Dense(64)(z))
    generator = keras.Model(z, keras.layers.Activation("tanh")(x), name="generator")
    x = keras.Input((8, 8, 1))
    critic = keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(x)), name="critic")
    gan = kwgan.GAN(generator, critic, seed=seed)
    gan.compile("wgan-gp", critic_steps=1)
    return gan


def png(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image)


def test_sample_grid_writes_fixed_noise_grids(tiny_gan, tmp_path):
    gan = image_gan()
    real = np.random.default_rng(0).uniform(-1, 1, size=(32, 8, 8, 1)).astype("float32")
    grid = SampleGrid(str(tmp_path), every=2, n=6, seed=3, scale=2)
    gan.fit(real, batch_size=8, epochs=1, verbose=0, callbacks=[grid])  # 4 generator iterations

    assert sorted(os.listdir(tmp_path)) == [
        "samples.png",
        "samples_0000002.png",
        "samples_0000004.png",
    ]
    # 6 images of 8×8 in a 2×3 grid with 1-px borders: 19×28 pixels, ×2 nearest-neighbour.
    final = png(tmp_path / "samples.png")
    assert final.shape == (38, 56) and final.dtype == np.uint8
    np.testing.assert_array_equal(final, png(tmp_path / "samples_0000004.png"))
    assert png(tmp_path / "samples_0000002.png").shape == (38, 56)

    # The grid shows the generator on noise drawn once from `seed`.
    noise = np.random.default_rng(3).normal(size=(6, 4)).astype("float32")
    images = to_numpy(gan.generator.predict(noise, verbose=0))
    expected = kwgan.grid.image_grid(images)[..., 0].repeat(2, axis=0).repeat(2, axis=1)
    np.testing.assert_array_equal(final, expected)
    assert final[0].tolist() == [255] * 56  # white border

    # Unchanged weights, same noise: another write gives the same picture.
    grid.write(99)
    np.testing.assert_array_equal(png(tmp_path / "samples_0000099.png"), final)
    # So does a new fit's noise (redrawn from the same seed) before any step changes the weights.
    grid.on_train_begin()
    grid.write(100)
    np.testing.assert_array_equal(png(tmp_path / "samples_0000100.png"), final)


# -- WEstimateCurve ----------------------------------------------------------------------


def test_w_estimate_curve_writes_its_png(tiny_gan, tmp_path):
    gan = tiny_gan(dim=8)
    gan.compile("wgan-gp", critic_steps=2)
    path = tmp_path / "w.png"
    curve = WEstimateCurve(str(path), every=100, title="tiny")
    gan.fit(toy_data(6), verbose=0, callbacks=[curve])
    assert curve.iterations == [1, 2, 3] and len(curve.history["w_estimate"]) == 3
    assert png(path).ndim == 3  # an RGBA figure, written at the end of training

    # Objectives without a Wasserstein estimate write no curve.
    gan = tiny_gan(dim=8)
    gan.compile("dcgan")
    other = tmp_path / "none.png"
    gan.fit(toy_data(2), verbose=0, callbacks=[WEstimateCurve(str(other))])
    assert not other.exists()


# -- Stopwatch ---------------------------------------------------------------------------


def test_stopwatch_state_counts_the_running_fit(tiny_gan):
    """A checkpoint taken mid-`fit` holds the steady span up to its step: with one critic
    step per generator iteration, after step k the k − 1 iterations since the first
    (compiling) step; a run resumed from it adds its own span."""
    gan = tiny_gan(dim=8)
    gan.compile("wgan-gp", critic_steps=1)
    stopwatch, states = kwgan.callbacks.Stopwatch(), []

    class Snapshot(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            states.append(stopwatch.get_state())

    gan.fit(toy_data(4), verbose=0, callbacks=[stopwatch, Snapshot()])
    assert [state["steady_iterations"] for state in states] == [0, 1, 2, 3]
    assert states[0]["steady_seconds"] == 0
    assert stopwatch.get_state() == states[-1]

    resumed = kwgan.callbacks.Stopwatch()
    resumed.set_state(states[1])  # killed after step 2: 1 steady iteration kept
    gan.fit(toy_data(3), verbose=0, callbacks=[resumed])
    assert resumed.get_state()["steady_iterations"] == 1 + 2


# -- The checkpoint that ends training ---------------------------------------------------


class Killed(Exception):
    """Stands in for a SIGKILL: nothing after it runs in the process."""


def test_checkpoint_that_ends_training_holds_every_callbacks_end(tiny_gan, tmp_path, monkeypatch):
    """Killed the instant the checkpoint that ends `fit` is published (5 steps, a checkpoint
    every 5: a periodic one falls on the last step too), the run has the end of every
    callback's training — the last evaluation, the stopwatch's span, the curve's png — so a
    rerun with nothing left to train has every result."""
    save = kwgan.checkpoint.save

    def save_then_die(directory, gan, callbacks=()):
        path = save(directory, gan, callbacks)
        if gan.stop_training:
            raise Killed
        return path

    monkeypatch.setattr(kwgan.checkpoint, "save", save_then_die)

    def trained(gan):
        gan.compile("wgan-gp", critic_steps=1)
        return gan

    def stateful():
        return {
            "history": WEstimateCurve(str(tmp_path / "w.png")),
            "evaluation": EvaluateEvery(2, lambda model, iteration: {}),
            "stopwatch": kwgan.callbacks.Stopwatch(),
        }

    directory, killed = tmp_path / "checkpoints", stateful()
    checkpoint = kwgan.checkpoint.Checkpoint(directory, every=5, callbacks=killed)
    with pytest.raises(Killed):
        trained(tiny_gan(dim=8)).fit(
            toy_data(100),
            verbose=0,
            callbacks=[StopAtGeneratorIteration(5), *killed.values(), checkpoint],
        )
    assert png(tmp_path / "w.png").ndim == 3

    restored = stateful()
    state = kwgan.checkpoint.restore(directory, trained(tiny_gan(dim=8)), restored)
    assert (state["fit_steps"], state["generator_iterations"]) == (5, 5)
    assert restored["history"].iterations == [1, 2, 3, 4, 5]
    assert restored["evaluation"].results == [{"iteration": i} for i in (2, 4, 5)]
    assert restored["stopwatch"].get_state()["steady_iterations"] == 4


# -- GeneratorProgbar -------------------------------------------------------------------

LINE = re.compile(r"generator iteration +(\d+)/(\d+) - \d+:\d\d:\d\d((?: - \w+: \S+)+)")
WGAN_GP = ["d_loss", "g_loss", "gp", "w_estimate"]  # the logs of a wgan-gp step, in order


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as `sys.stdout` is in an interactive shell."""

    def isatty(self) -> bool:
        return True


def reported(out: str) -> list[tuple[int, int]]:
    """(iteration, total) of each line, every line checked against the plain format and
    for the losses of a wgan-gp step."""
    lines = [LINE.fullmatch(line) for line in out.splitlines()]
    assert all(lines), out
    assert all(re.findall(r" - (\w+): ", line[3]) == WGAN_GP for line in lines), out
    return [(int(line[1]), int(line[2])) for line in lines]


def test_generator_progbar_writes_plain_lines_off_a_terminal(tiny_gan, capsys):
    """Every `every` iterations, at `total`, and at the last iteration of each fit."""
    gan = tiny_gan(dim=8)
    gan.compile("wgan-gp", critic_steps=2)
    bar = GeneratorProgbar(7, every=3)
    gan.fit(toy_data(5), verbose=0, callbacks=[StopAtGeneratorIteration(7), bar])
    assert reported(capsys.readouterr().out) == [(2, 7)]  # the data ran out at iteration 2
    # A second fit goes on from 2: lines at 3 and 6, and at the total, where it stops.
    gan.fit(toy_data(50), verbose=0, callbacks=[StopAtGeneratorIteration(7), bar])
    assert counter(gan.generator_iterations) == 7
    assert reported(capsys.readouterr().out) == [(3, 7), (6, 7), (7, 7)]
    # A fit that closes no generator iteration (one critic step of two) writes nothing.
    gan.fit(toy_data(1), verbose=0, callbacks=[bar])
    assert capsys.readouterr().out == ""


def test_generator_progbar_is_keras_bar_on_a_terminal(tiny_gan, monkeypatch):
    gan = tiny_gan(dim=8)
    gan.compile("wgan-gp", critic_steps=2)
    monkeypatch.setattr(sys, "stdout", Terminal())
    gan.fit(toy_data(50), verbose=0, callbacks=[StopAtGeneratorIteration(3), GeneratorProgbar(3)])
    out = sys.stdout.getvalue()
    # Redrawn in place with carriage returns; one line break, when it reaches its total.
    assert out.count("\n") == 1 and out.endswith("\n") and "\r" in out
    assert "3/3" in out and "w_estimate" in out and "gp" in out
    assert not LINE.search(out)  # not the plain lines


@pytest.mark.parametrize("stream", [io.StringIO, Terminal])
def test_generator_progbar_verbose_0_is_silent(tiny_gan, monkeypatch, stream):
    gan = tiny_gan(dim=8)
    gan.compile("wgan-gp", critic_steps=1)
    monkeypatch.setattr(sys, "stdout", stream())
    gan.fit(toy_data(3), verbose=0, callbacks=[GeneratorProgbar(3, verbose=0)])
    assert sys.stdout.getvalue() == ""


def test_generator_progbar_logs_a_demo_run_in_a_hundred_lines(tiny_gan, capsys):
    """`make demo`'s 10 000 generator iterations, fed to the callback directly (as `fit`
    would, one batch end each), make 100 lines, not hundreds of KB."""
    bar = GeneratorProgbar(10_000)
    bar.set_model(tiny_gan())
    bar.on_train_begin()
    losses = {"d_loss": -1.25, "g_loss": 0.5, "gp": 0.0005, "w_estimate": 1.5}
    for i in range(1, 10_001):
        bar.on_train_batch_end(i, {"generator_iterations": i, **losses})
    bar.on_train_end()
    out = capsys.readouterr().out
    assert reported(out) == [(i, 10_000) for i in range(100, 10_001, 100)]
    assert out.splitlines()[0].endswith(
        " - d_loss: -1.2500 - g_loss: 0.5000 - gp: 5.0000e-04 - w_estimate: 1.5000"
    )
    assert len(out.encode()) < 20_000  # 115 bytes a line


@pytest.mark.parametrize(
    "total, every", [(3, 1), (250, 3), (5_000, 50), (10_000, 100), (10**6, 100)]
)
def test_generator_progbar_writes_every_percent_at_most_100(total, every):
    assert GeneratorProgbar(total).every == every


def test_generator_progbar_rejects_non_positive_every():
    with pytest.raises(kwgan.errors.ConfigError, match="every must be a positive integer"):
        GeneratorProgbar(10, every=0)


# -- median filter -----------------------------------------------------------------------


def test_median_filter_by_hand():
    # medfilt pads with zeros: windows [0 1 9] [1 9 2] [9 2 8] [2 8 3] [8 3 0].
    out = kwgan.plots.median_filter([1, 9, 2, 8, 3], kernel=3)
    assert out.tolist() == [1, 2, 8, 3, 3]
    # The default 101 is cut to the longest odd kernel that fits: 3 for 4 values…
    assert kwgan.plots.median_filter([4, 1, 3, 2]).tolist() == [1, 3, 2, 2]
    # … 5 for 5 values: windows [0 0 1 9 2] [0 1 9 2 8] [1 9 2 8 3] [9 2 8 3 0] [2 8 3 0 0].
    assert kwgan.plots.median_filter([1, 9, 2, 8, 3]).tolist() == [1, 2, 3, 3, 2]
    # an even kernel is rounded down to odd; 1 or 2 values are left as they are.
    assert kwgan.plots.median_filter([1, 9, 2, 8, 3], kernel=4).tolist() == [1, 2, 8, 3, 3]
    assert kwgan.plots.median_filter([5.0, -1.0]).tolist() == [5.0, -1.0]
    assert kwgan.plots.median_filter([7]).tolist() == [7]
    assert kwgan.plots.median_filter([]).tolist() == []


# -- GAN.steps_for -----------------------------------------------------------------------


def test_steps_for_counts_from_where_the_model_stands(tiny_gan):
    schedule = kwgan.CriticSchedule(**WARMUP)
    gan = tiny_gan(dim=8)
    gan.compile("wgan-gp", schedule=schedule)
    assert gan.steps_for(4) == schedule.total_critic_steps(4) == 3 + 3 + 2 + 2
    gan.fit(toy_data(7), verbose=0)  # g = 2, one critic step into the next cycle
    # generator iterations 2, 3, 4 need 2 + 2 + 3 critic steps, one of which is done
    assert gan.steps_for(3) == schedule.total_critic_steps(3, start=2) - 1 == 6
    gan.fit(toy_data(gan.steps_for(3)), verbose=0)
    assert counter(gan.generator_iterations) == 5
    assert counter(gan.critic_cycle_step) == 0
    assert gan.steps_for(0) == 0
    with pytest.raises(ValueError, match=">= 0"):
        gan.steps_for(-1)


def test_steps_for_mid_cycle_edge_cases(tiny_gan):
    gan = tiny_gan(dim=8)
    gan.compile("wgan-gp", critic_steps=5)
    gan.fit(toy_data(3), verbose=0)  # three critic steps into the first cycle
    assert gan.steps_for(0) == 0  # not −3
    assert gan.steps_for(2) == 2 + 5
    # Recompiled to 2 critic steps, the cycle that has had 3 closes at the very next step.
    gan.compile("wgan-gp", critic_steps=2)
    assert gan.steps_for(1) == 1 and gan.steps_for(3) == 1 + 2 + 2
    gan.fit(toy_data(1), verbose=0)
    assert counter(gan.generator_iterations) == 1 and counter(gan.critic_cycle_step) == 0


@pytest.mark.skipif(
    keras.backend.backend() == "torch", reason="Keras runs one step per call on torch"
)
@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("warmup", [False, True])
def test_generator_iterations_counted_once_with_steps_per_execution(tiny_gan, k, warmup):
    """One `on_generator_iteration_end` per generator iteration, in order, whatever the
    number of steps Keras runs per call (the warm-up makes iterations of 100 steps and of
    5 alternate, so several may end within one call, or none)."""
    schedule = kwgan.CriticSchedule(5, warmup_steps=7, warmup_iterations=2, warmup_every=4)
    gan = tiny_gan()
    gan.compile(
        "wgan-gp",
        steps_per_execution=k,
        **({"schedule": schedule} if warmup else {"critic_steps": 2}),
    )
    history = kwgan.callbacks.LossHistory()
    steps = 60
    gan.fit(
        kwgan.data.toy("8gaussians", 8, steps_per_epoch=steps),
        callbacks=[history],
        shuffle=False,
        verbose=0,
    )
    done = int(to_numpy(gan.generator_iterations))
    expected = (
        (steps // 2)
        if not warmup
        else next(n for n in range(steps + 1) if schedule.total_critic_steps(n + 1) > steps)
    )
    assert done == expected
    assert history.iterations == list(range(1, done + 1))
