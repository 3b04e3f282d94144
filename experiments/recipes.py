"""A recipe search at reduced length, ranked by KID: which recipe to run at full budget.

Lucic et al. 2018 (§5) chose each model's Fashion-MNIST row from a 100-setting search; this
trains a handful of recipes from the papers on the study's network (`--arch infogan`) for
the same reduced number of generator iterations, each with a generator average, and ranks
them by KID of --kid_samples samples against the test split (the recipes and their sources:
`kwgan.experiment.recipes`).

    python experiments/recipes.py                         # the 8 recipes, 2 000 iterations
    python experiments/recipes.py --recipes ns-gan,wgan-gp --steps 500 --out runs/quick

Writes into --out: one `lsun.py` run per recipe (its printed output in its log.txt),
recipes.md and recipes.json (the ranking: KID, FID, precision, recall, density, coverage of
the averaged generator, the raw generator's KID and FID, seconds per iteration) and
recipes.png (samples of each recipe, best first). Rerunning with the same --out resumes the
recipe a killed search was in and skips the finished ones.

The flags are the fields of `kwgan.experiment.RecipesConfig`, and the search is
`kwgan.experiment.run(config)`.
"""

import startup  # noqa: F401  (first: silences TensorFlow's start-up log before it loads)
from kwgan.cli import main
from kwgan.experiment.recipes import RecipesConfig

if __name__ == "__main__":
    main(RecipesConfig)
