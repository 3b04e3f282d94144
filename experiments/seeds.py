"""One recipe at the study's full budget from several seeds: FID as mean ± std over seeds.

The published Fashion-MNIST numbers on the study's network (Lucic et al. 2018; Zhang &
Khoreva 2019) are means ± standard deviations over restarts. This trains one recipe
(`kwgan.experiment.recipes.RECIPES`, the recipe search's winner by default) on
`--arch infogan` for 15 625 generator iterations from each seed, with a generator average,
and scores 10 000 samples of the averaged and the raw generator against the test split.

    python experiments/seeds.py --out runs/fmnist_seeds            # ns-gan_2critic, seeds 0,1,2
    python experiments/seeds.py --recipe wgan-gp --seeds 0 --out runs/fmnist_wgangp

Writes into --out: one `lsun.py` run per seed (its printed output in its log.txt), seeds.md
and seeds.json (FID, KID, precision, recall, density, coverage of each seed's averaged and
raw generator, its wall time and iterations per second, then the mean ± std over the seeds)
and seeds.png (FID and KID over generator iterations per seed; samples of the best seed).
Rerunning with the same --out resumes the seed a killed run was in and skips the finished
ones; a larger --seeds adds seeds to a finished set. A run trained alone by lsun.py with a
seed's flags, moved to --out/<recipe>_seed<k>, is collected rather than trained again.

The flags are the fields of `kwgan.experiment.SeedsConfig`, and the runs are
`kwgan.experiment.run(config)`.
"""

import startup  # noqa: F401  (first: silences TensorFlow's start-up log before it loads)
from kwgan.cli import main
from kwgan.experiment.seeds import SeedsConfig

if __name__ == "__main__":
    main(SeedsConfig)
