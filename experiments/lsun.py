"""The papers' image experiments: any architecture × any objective, on LSUN and friends.

Reproduces the WGAN paper's §4 experiments (LSUN bedrooms 64×64: DCGAN, no-BN, MLP
generators; `--objective wgan` versus the `dcgan` baseline) and the WGAN-GP paper's Fig. 2
matrix (six architectures × four objectives), each objective with its paper's
hyperparameters (see `kwgan.objectives`; --optimizer, --lr, --critic_lr, --lr_decay and
--beta1 depart from them on request). `experiments/loss_meaning.py` and
`experiments/convergence.py` compare several such runs (WGAN Figs. 3, 4, 8; WGAN-GP Fig. 3).
Steps are *generator* iterations, as in the papers.
`--conditional` trains the CIFAR ResNet's class-conditional AC-GAN on a labelled dataset.

    python experiments/lsun.py --arch dcgan --objective wgan-gp --steps 200000 --out runs/lsun
    python experiments/lsun.py --dataset cifar10 --image_size 32 --arch cifar-resnet \
        --out runs/cifar
    python experiments/lsun.py --dataset digits --image_size 32 --arch cifar-dcgan --dim 32 \
        --out runs/digits

`--fid_samples N` scores N samples by FID and KID (Heusel et al. 2017; Bińkowski et al. 2018)
against the dataset's test split, as compare_gan (Lucic et al. 2018) compares objectives on
a fixed architecture (`--arch infogan` for (Fashion-)MNIST), and by precision, recall
(Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020) in the same features;
`--fid_every K` also does so during training.

`--distribute` trains data-parallel over every local device, and with --coordinator,
--num_processes and --process_id (JAX) or TF_CONFIG (TensorFlow) over several hosts; see the
README's "Scaling out". --batch_size is the global batch either way.

    KERAS_BACKEND=jax python experiments/lsun.py --distribute --batch_size 256 --out runs/lsun

Writes into --out: samples.png (and samples_*.png during training), samples.npy (≥ 1000 images,
float32 NHWC in [−1, 1]), metrics.json, w_estimate.png (Wasserstein objectives), gan.keras,
run.json (the flags), checkpoints/, and with --export a TensorFlow SavedModel of the
generator. Rerunning with the same --out resumes where a killed run stopped and ends exactly
as the uninterrupted run would; a larger --steps continues a finished run.

The flags are the fields of `kwgan.experiment.ImageConfig`, and the run is
`kwgan.experiment.run(config)`: the same run from Python is

    kwgan.experiment.run(kwgan.experiment.ImageConfig(dataset="digits", ..., out="runs/x"))
"""

import startup  # noqa: F401  (first: silences TensorFlow's start-up log before it loads)
from kwgan.cli import main
from kwgan.experiment.images import ImageConfig

if __name__ == "__main__":
    main(ImageConfig)
