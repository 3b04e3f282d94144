"""The quickstart: WGAN-GP on scikit-learn's bundled handwritten digits, on a laptop CPU.

The digits (1797 real 8×8 scans, always installed) are upscaled to 32×32 and trained with
the CIFAR DCGAN of the WGAN-GP reference (`gan_cifar.py`) at a reduced width, with that
script's hyperparameters (λ = 10, 5 critic iterations, Adam 1e-4 with β = (0.5, 0.9)). It reports a classifier-based score and Fréchet distance
next to those of real digits, and exports the generator to saved_models/digits.

    python experiments/digits.py                       # WGAN-GP, the README's main job
    python experiments/digits.py --objective dcgan --out runs/digits_dcgan --export=

All flags of experiments/lsun.py apply.
"""

from absl import app, flags

import lsun

DEFAULTS = {
    "dataset": "digits",
    "image_size": 32,
    "arch": "cifar-dcgan",
    "dim": 32,
    "beta1": 0.5,  # gan_cifar.py / gan_mnist.py: Adam(1e-4, β = (0.5, 0.9))
    "steps": 2000,
    "sample_every": 250,
    "out": "runs/digits",
    "export": "saved_models/digits",
}

if __name__ == "__main__":
    for name, value in DEFAULTS.items():
        flags.FLAGS.set_default(name, value)
    app.run(lsun.main)
