"""Reproduces the WGAN-GP paper's 2-D experiments (Fig. 1 and the toy results of §4).

The defaults are the reference `gan_toy.py` settings: 3 × 512 ReLU MLPs, 2-D noise, batch
256, 5 critic iterations, Adam 1e-4 with β = (0.5, 0.9) and λ = 0.1 for `wgan-gp` ("smaller
lambda makes things faster for toy tasks"; `--gp_weight 10` gives the library default the
paper uses on images), RMSProp 5e-5 and clipping at 0.01 for `wgan`. Quality is measured,
not eyeballed: at every evaluation point the **exact** W1 (optimal transport) between 2000
generated and 2000 target points, beside the two-sample floor (W1 between two independent
2000-point target samples), and for the Gaussian mixtures the modes covered and the
fraction of samples within 3σ of a centre.

    python experiments/toy.py --dataset 8gaussians --objective wgan-gp --steps 10000 --out runs/toy
    python experiments/toy.py --fixed_generator --objective wgan --out runs/fig1a_wgan

Writes into --out: samples.npy, metrics.json, critic_surface.png, w_estimate.png,
evaluations.jsonl (each evaluation as it happens), run.json (the flags) and checkpoints/.
Rerunning with the same --out resumes where a killed run stopped and ends exactly as the
uninterrupted run would; a larger --steps continues a finished run.

The flags are the fields of `kwgan.experiment.ToyConfig`, and the run is
`kwgan.experiment.run(config)`: the same run from Python is

    kwgan.experiment.run(kwgan.experiment.ToyConfig(dataset="8gaussians", ..., out="runs/x"))
"""

import startup  # noqa: F401  (first: silences TensorFlow's start-up log before it loads)
from kwgan.cli import main
from kwgan.experiment.toy import ToyConfig

if __name__ == "__main__":
    main(ToyConfig)
