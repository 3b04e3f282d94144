"""WGAN Figs. 3, 4 and 8: the WGAN critic's loss tracks sample quality; a GAN's does not.

Trains the WGAN paper's three networks (§4.2) as WGAN and as the standard GAN (`dcgan`, the
−log D trick): (a) the DCGAN generator with the DCGAN critic, (b) the 4-layer 512-unit ReLU
MLP generator with the DCGAN critic, (c) an MLP generator with an MLP critic — the WGAN repo's
`models/dcgan.py` and `models/mlp.py`, here `--arch wgan-dcgan`, `wgan-mlp-g`, `wgan-mlp`.
Each run scores 1000 samples every --eval_every generator iterations with the digits
classifier. The figure puts each curve, median-filtered with a kernel of 101 as the WGAN
README's `medfilt(-Loss_D, 101)`, beside that score:

* WGAN: the critic's estimate of W, −critic loss = E D(x) − E D(G(z)) (Fig. 3);
* GAN: the discriminator's Jensen–Shannon estimate log 2 − critic loss (Fig. 4);
* GAN: the generator's loss, −log D(G(z)) (Fig. 8).

The paper's claim: the first falls as quality rises, the others do not. loss_meaning.json
holds Spearman's ρ of each median-filtered curve, read at the evaluations, with the score
(higher is better) and the Fréchet distance to held-out digits (lower is better).

    python experiments/loss_meaning.py --out runs/loss_meaning
    python experiments/loss_meaning.py --image_size 16 --steps 1600 --eval_every 40 --dim 16 \
        --mlp_dim 256 --out runs/loss_meaning  # the README's reduced run

Writes into --out: one `lsun.py` run per configuration (`wgan_wgan-dcgan/`, …, each with
its printed output in its log.txt), loss_meaning.png, loss_meaning.json and loss_meaning.md.
Rerunning with the same --out resumes the run a killed sweep was in and skips the finished
ones.

The flags are the fields of `kwgan.experiment.LossMeaningConfig`, and the sweep is
`kwgan.experiment.run(config)`.
"""

import startup  # noqa: F401  (first: silences TensorFlow's start-up log before it loads)
from kwgan.cli import main
from kwgan.experiment.loss_meaning import LossMeaningConfig

if __name__ == "__main__":
    main(LossMeaningConfig)
