"""Generator iterations per second of WGAN-GP on an image architecture, current backend.

The default workload is the one the plain-PyTorch peer (`torch_wgangp_dcgan64.py`) times: the
WGAN-GP paper's DCGAN 64×64 (dim 64, 5×5 kernels, layer norm in the critic), batch 64, 5 critic
iterations with the gradient penalty per generator iteration, on synthetic data (the input
pipeline is not part of the measurement). Run it beside the peer on the same machine:

    KERAS_BACKEND=jax python benchmarks/image_speed.py --iterations 10
    python PEER/torch_wgangp_dcgan64.py --device cpu --iters 10

`--arch cifar-dcgan --image_size 32 --channels 1 --dim 32` times the digits network at width
32 (the README's speed table; the quickstart itself now uses a width-16 critic and batch 32).
"""

from __future__ import annotations

import json
import time

from absl import app, flags

flags.DEFINE_string("arch", "dcgan", "Architecture (kwgan.architectures.NAMES).")
flags.DEFINE_integer("image_size", 64, "Image size.")
flags.DEFINE_integer("channels", 3, "Channels.")
flags.DEFINE_integer("dim", 64, "Base width.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("iterations", 10, "Timed generator iterations.")
flags.DEFINE_integer("warmup", 2, "Untimed generator iterations (tracing, compilation).")
flags.DEFINE_string("jit_compile", "auto", "auto, true or false.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import keras
    import numpy as np

    import kwgan

    keras.utils.set_random_seed(0)
    generator, critic = kwgan.architectures.build(
        FLAGS.arch, image_size=FLAGS.image_size, channels=FLAGS.channels, dim=FLAGS.dim
    )
    gan = kwgan.GAN(generator, critic, seed=0)
    jit = {"auto": "auto", "true": True, "false": False}[FLAGS.jit_compile.lower()]
    gan.compile("wgan-gp", jit_compile=jit)
    shape = (FLAGS.image_size, FLAGS.image_size, FLAGS.channels)
    rng = np.random.default_rng(0)

    def run(generator_iterations: int) -> float:
        # Exactly one batch per critic step: with fewer, `fit` would stop early when the
        # array runs out and the time per iteration would come out too small.
        steps = gan.steps_for(generator_iterations)
        images = rng.uniform(-1, 1, size=(steps * FLAGS.batch_size, *shape)).astype("float32")
        start = time.perf_counter()
        gan.fit(images, batch_size=FLAGS.batch_size, verbose=0)
        elapsed = time.perf_counter() - start
        assert int(keras.ops.convert_to_numpy(gan.critic_optimizer.iterations)) >= steps
        return elapsed

    run(FLAGS.warmup)
    seconds = run(FLAGS.iterations) / FLAGS.iterations
    print(
        json.dumps(
            {
                "backend": keras.backend.backend(),
                "arch": FLAGS.arch,
                "image_size": FLAGS.image_size,
                "dim": FLAGS.dim,
                "batch_size": FLAGS.batch_size,
                "jit_compile": str(gan.jit_compile),
                "seconds_per_generator_iteration": round(seconds, 4),
                "generator_iterations_per_second": round(1 / seconds, 3),
            }
        )
    )


if __name__ == "__main__":
    app.run(main)
