"""WGAN-GP Fig. 3: quality against generator iterations and wall-clock seconds.

Trains one network, `gan_cifar.py`'s (`--arch cifar-dcgan`), as the paper's §5.3 compares
four ways, each with its reference settings (`gan_cifar.py`'s modes, which trained the
paper's curves; it has no warm-up for `wgan`):

* `wgan_clip_rmsprop`: WGAN with weight clipping, RMSProp 5e-5;
* `wgan-gp_rmsprop`: WGAN-GP with RMSProp at the same learning rate (`--optimizer rmsprop`);
* `wgan-gp_adam`: WGAN-GP with Adam 1e-4, β = (0.5, 0.9);
* `dcgan`: the standard GAN (−log D), Adam 2e-4, β1 = 0.5.

Quality is the digits classifier's score of 1000 samples every --eval_every generator
iterations (the paper: the Inception score on CIFAR-10); seconds are training seconds,
without the scoring. The paper's claims: with the same optimizer the penalty converges
faster and better than clipping, Adam improves it further, and DCGAN is faster in
wall-clock time but less stable.

    python experiments/convergence.py --out runs/convergence  # 200 000 iterations, 32×32
    python experiments/convergence.py --image_size 16 --steps 2000 --eval_every 50 --dim 16 \
        --thresholds 2,4,6 --out runs/convergence  # the README's reduced run

Writes into --out: one `lsun.py` run per configuration (its printed output in its log.txt),
convergence.png (score against iterations and seconds), convergence.json and convergence.md
(the iterations and seconds each run took to first reach each --thresholds score, its final
and best score, and its largest fall below its best score so far: how stable it is).
Rerunning with the same --out resumes the run a killed sweep was in and skips the finished
ones.

The flags are the fields of `kwgan.experiment.ConvergenceConfig`, and the sweep is
`kwgan.experiment.run(config)`.
"""

import startup  # noqa: F401  (first: silences TensorFlow's start-up log before it loads)
from kwgan.cli import main
from kwgan.experiment.convergence import ConvergenceConfig

if __name__ == "__main__":
    main(ConvergenceConfig)
