"""Reproduces the WGAN-GP paper's robustness tables (§5.1, Tables 2 and 5): random
architectures from Table 1, each trained under the GAN objective and under WGAN-GP.

For each of --num_architectures descriptions drawn from the space of Table 1 (nonlinearity,
depth, BN and base filters of G and D), and for the DCGAN of the space (Table 5's "reference
DCGAN"), both objectives train for the same --steps generator iterations with Appendix B's
optimizers; each run is scored by the digits classifier (the paper: the Inception Score on
32×32 ImageNet after 100K iterations). See `kwgan.experiment.architectures`.

    python experiments/architectures.py --num_architectures 200 --steps 100000 \\
        --out runs/architectures
    python experiments/architectures.py --num_architectures 12 --steps 200 --batch_size 32 \\
        --image_size 16 --width_divisor 4 --out runs/architectures_cpu

Writes into --out: one directory per (architecture, objective), `arch007_wgan-gp/` or
`reference_dcgan/`, with architecture.json (the sampled description), result.json (score,
Fréchet distance in the classifier's features, seconds), samples.png, run.json and
checkpoints/; then table.json and table.md (Table 5's rows: for each minimum score, how many
architectures succeeded only under the GAN, only under WGAN-GP, under both, under neither)
and success.png (successes against the minimum score for each objective). Rerunning with
the same --out skips the finished pairs, resumes a killed one from its checkpoint, and ends
as the uninterrupted run would; --max_minutes stops cleanly (rerun to go on).

The flags are the fields of `kwgan.experiment.ArchitecturesConfig`, and the table is
`kwgan.experiment.run(config)`.
"""

import startup  # noqa: F401  (first: silences TensorFlow's start-up log before it loads)
from kwgan.cli import main
from kwgan.experiment.architectures import ArchitecturesConfig

if __name__ == "__main__":
    main(ArchitecturesConfig)
