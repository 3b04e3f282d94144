"""The quickstart: WGAN-GP on scikit-learn's bundled handwritten digits, on a laptop CPU.

The digits (1797 real 8×8 scans, always installed) are upscaled to 32×32 and trained with
the CIFAR DCGAN of the WGAN-GP reference (`gan_cifar.py`), sized for ten minutes on two CPU
cores: generator width 32, critic width 16 (the critic's double backward, five times per
generator iteration, is most of the compute, so a narrower critic buys the most
iterations), batch 32, and Adam 2e-4 with β = (0.5, 0.9) (`gan_cifar.py`'s β; the learning
rate of the reference's CIFAR ResNet, `gan_cifar_resnet.py`); λ = 10 and 5 critic
iterations as in both. It reports a classifier-based score and Fréchet distance next to
those of real digits, and exports the generator to saved_models/digits. README "Digits"
lists the configurations measured on the way to these defaults.

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
    "generator_dim": 32,
    "critic_dim": 16,
    "batch_size": 32,
    "lr": 2e-4,  # gan_cifar_resnet.py; gan_cifar.py and gan_mnist.py use 1e-4
    "beta1": 0.5,  # gan_cifar.py / gan_mnist.py: β = (0.5, 0.9)
    "steps": 5000,
    "sample_every": 500,
    "out": "runs/digits",
    "export": "saved_models/digits",
}



def main(argv):
    # The 2e-4 default is WGAN-GP's; the other objectives keep their papers' learning rates
    # unless --lr is given.
    if flags.FLAGS.objective != "wgan-gp" and not flags.FLAGS["lr"].present:
        flags.FLAGS.lr = None
    lsun.main(argv)


if __name__ == "__main__":
    for name, value in DEFAULTS.items():
        flags.FLAGS.set_default(name, value)
    app.run(main)
