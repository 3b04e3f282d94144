"""Does quality hold in bfloat16? One WGAN-GP recipe trained in float32 and mixed_bfloat16.

The check before bfloat16 may become a default: the paper's WGAN-GP (Gulrajani et al.
2017, Algorithm 1) on the Fashion-MNIST network of Lucic et al. 2018 (`--arch infogan`),
both precisions from the same seeds, KID of --kid_samples samples against the test split
every --kid_every generator iterations, and the critic's gradient penalty and W estimate
(WGAN-GP §4 eq. 3; WGAN §4) at every iteration (`kwgan.experiment.precision_study`).

    python experiments/precision_study.py                          # 2 seeds, 2 000 iterations
    python experiments/precision_study.py --recipe wgan-gp_ttur --seeds 0 --steps 500

Writes into --out: one `lsun.py` run per precision and seed (its printed output in its
log.txt), precision_study.md and precision_study.json (KID at each evaluation, final FID,
precision, recall, penalty and W estimate over the last tenth, finiteness, seconds per
iteration; bfloat16's KID gap per seed) and precision_study.png (the curves). Rerunning
with the same --out resumes a killed study.

The flags are the fields of `kwgan.experiment.PrecisionStudyConfig`, and the study is
`kwgan.experiment.run(config)`.
"""

import startup  # noqa: F401  (first: silences TensorFlow's start-up log before it loads)
from kwgan.cli import main
from kwgan.experiment.precision_study import PrecisionStudyConfig

if __name__ == "__main__":
    main(PrecisionStudyConfig)
