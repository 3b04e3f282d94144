"""The quickstart: WGAN-GP on scikit-learn's bundled handwritten digits, on a laptop CPU.

The digits (1797 real 8×8 scans, always installed) are upscaled to 32×32 and trained with
the CIFAR DCGAN of the WGAN-GP reference (`gan_cifar.py`), with λ = 10 and Adam β = (0.5,
0.9) as there, but sized for ten minutes on two CPU cores, where training is compute-bound
and the critic's double backward is most of the compute: generator width 32, critic width
16, batch 32, and two time-scale updates (Heusel et al. 2017) instead of the paper's five
critic iterations per generator iteration — 2 critic iterations at Adam 4e-4, generator at
2e-4 — for 10 000 generator iterations. README "Digits" lists every configuration measured
on the way, the paper's n_critic = 5 included. It reports a classifier-based score and
Fréchet distance next to those of real digits, and exports the generator to
saved_models/digits.

    python experiments/digits.py                       # WGAN-GP, the README's main job
    python experiments/digits.py --objective dcgan --steps 5000 --out runs/digits_dcgan --export=

All flags of experiments/lsun.py apply; the preset is `kwgan.experiment.presets.digits`.
"""

import startup  # noqa: F401  (first: silences TensorFlow's start-up log before it loads)
from kwgan.cli import main
from kwgan.experiment.presets import digits

if __name__ == "__main__":
    main(digits)
