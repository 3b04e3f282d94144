"""Seconds per generator iteration of the WGAN-GP toy problem on the current backend.

The reference setting: 3 × 512 ReLU MLPs, batch 256, 5 critic iterations with the gradient
penalty per generator iteration. Warm-up steps (compilation) are excluded.

    KERAS_BACKEND=jax python benchmarks/toy_speed.py --iterations 40
"""

from __future__ import annotations

import json
import time

from absl import app, flags

flags.DEFINE_integer("iterations", 40, "Timed generator iterations.")
flags.DEFINE_integer("warmup", 4, "Untimed generator iterations (tracing, compilation).")
flags.DEFINE_integer("batch_size", 256, "Batch size.")
flags.DEFINE_integer("dim", 512, "MLP width.")
flags.DEFINE_enum("objective", "wgan-gp", ["wgan", "wgan-gp", "dcgan", "lsgan"], "Objective.")
flags.DEFINE_boolean(
    "terminate_on_nan", True, "GAN.fit's NaN guard, which reads every step's losses on the host."
)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import keras

    import kwgan

    keras.utils.set_random_seed(0)
    gan = kwgan.GAN(
        kwgan.architectures.toy_generator(dim=FLAGS.dim),
        kwgan.architectures.toy_critic(dim=FLAGS.dim),
        seed=0,
    )
    gan.compile(FLAGS.objective, warmup=False, terminate_on_nan=FLAGS.terminate_on_nan)
    data = kwgan.data.toy(
        "8gaussians", FLAGS.batch_size, steps_per_epoch=gan.steps_for(FLAGS.warmup)
    )
    gan.fit(data, epochs=1, verbose=0)
    steps = gan.steps_for(FLAGS.iterations)
    data = kwgan.data.toy("8gaussians", FLAGS.batch_size, steps_per_epoch=steps, seed=1)
    start = time.perf_counter()
    gan.fit(data, epochs=1, verbose=0)
    seconds = (time.perf_counter() - start) / FLAGS.iterations
    print(
        json.dumps(
            {
                "backend": keras.backend.backend(),
                "objective": FLAGS.objective,
                "batch_size": FLAGS.batch_size,
                "dim": FLAGS.dim,
                "terminate_on_nan": FLAGS.terminate_on_nan,
                "seconds_per_generator_iteration": round(seconds, 4),
                "generator_iterations_per_second": round(1 / seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    app.run(main)
