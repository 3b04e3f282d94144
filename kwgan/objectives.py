"""The four adversarial objectives and the papers' defaults for each.

Every loss term lives here, each a `keras.ops` function of critic scores or logits (so one
definition serves all backends): each objective's critic and generator losses, what its
critic iteration logs, and the AC-GAN head's cross-entropy; the trainer only combines them
(the gradient penalty, a regulariser of the critic's input gradients, is in
`kwgan.penalties`). Each objective also carries the hyperparameters the papers trained it
with. Sources are the reference code's exact formulas (`gan_64x64.py`, the `gen_cost` and
`disc_cost` of each `MODE`) and Algorithm 1 of each paper:

| objective | critic loss | generator loss | optimizer | critic steps | regulariser |
|---|---|---|---|---|---|
| `wgan` | E D(x̃) − E D(x) | −E D(x̃) | RMSProp 5e-5 | 5 (100 warm-up) | clip ±0.01 |
| `wgan-gp` | E D(x̃) − E D(x) + λ·GP | −E D(x̃) | Adam 1e-4, β=(0, 0.9) | 5 | λ = 10 |
| `dcgan` | ½[BCE(D(x̃),0) + BCE(D(x),1)] | BCE(D(x̃),1) (−log D) | Adam 2e-4, β1 = 0.5 | 1 | — |
| `lsgan` | ½[E (D(x)−1)² + E D(x̃)²] | E (D(x̃)−1)² | RMSProp 1e-4 | 1 | — |

Optimizer details follow the references rather than Keras defaults: Adam ε = 1e-8 (TF1 and
PyTorch), RMSProp with the PyTorch WGAN repo's decay 0.99 and ε = 1e-8.

What a critic iteration logs beside its loss is the divergence its critic estimates: the
Wasserstein estimate E D(x) − E D(x̃) (WGAN Fig. 3) for the Wasserstein objectives, and for
`dcgan` the Jensen–Shannon estimate of WGAN Fig. 4 (see `NonSaturating.logs`).
"""

from __future__ import annotations

import dataclasses
import math

import keras
from keras import ops

from kwgan.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Objective:
    """An adversarial objective: every loss term of critic scores, what it logs, and the
    papers' defaults.

    Attributes:
        name: registry name.
        critic_steps: critic iterations per generator iteration.
        learning_rate: both optimizers' learning rate.
        adam: whether the papers train it with Adam (β = (`beta_1`, `beta_2`), so
            `optimizers(beta_1=...)` applies), else RMSProp.
        gp_weight: λ of the gradient penalty; 0 means no penalty.
        clip_value: weight-clipping box; `None` means no clipping.
        warmup: whether the WGAN repo's schedule (100 critic iterations for the first 25
            generator iterations and every 500th) is on by default.
    """

    name: str
    critic_steps: int
    learning_rate: float
    adam: bool = False
    beta_1: float = 0.0
    beta_2: float = 0.9
    gp_weight: float = 0.0
    clip_value: float | None = None
    warmup: bool = False

    @property
    def wasserstein(self) -> bool:
        """Whether the critic estimates a Wasserstein distance, so that mean D(real) − mean
        D(fake) means something (the WGAN paper's Fig. 3 curve)."""
        return False

    def critic_loss(self, real_scores, fake_scores):
        """The critic's loss without any penalty (a scalar)."""
        raise NotImplementedError

    def generator_loss(self, fake_scores):
        """The generator's loss (a scalar)."""
        raise NotImplementedError

    def logs(self, real_scores, fake_scores) -> dict:
        """What a critic iteration logs beside its loss: the W estimate where it is one."""
        if not self.wasserstein:
            return {}
        return {"w_estimate": ops.mean(real_scores) - ops.mean(fake_scores)}

    def with_optimizer(self, optimizer: str) -> Objective:
        """This objective trained with `optimizer` ("adam" or "rmsprop") at its own learning
        rate and β: the WGAN-GP paper's Fig. 3 trains the penalty with RMSProp too (§5.3)."""
        if optimizer not in ("adam", "rmsprop"):
            raise ConfigError(f"Unknown optimizer {optimizer!r}; choose adam or rmsprop.")
        return dataclasses.replace(self, adam=optimizer == "adam")

    def schedule(self, critic_steps: int | None = None, warmup: bool | None = None):
        """The critic schedule (a `kwgan.CriticSchedule`): the objective's critic iterations
        and warm-up unless `critic_steps` or `warmup` say otherwise."""
        from kwgan.schedule import CriticSchedule

        steps = self.critic_steps if critic_steps is None else critic_steps
        warm = self.warmup if warmup is None else warmup
        return CriticSchedule.wgan(steps) if warm else CriticSchedule(steps)

    def optimizers(
        self,
        beta_1: float | None = None,
        *,
        learning_rate: float | None = None,
        critic_learning_rate: float | None = None,
        decay_steps: tuple[int, int] | None = None,
    ) -> tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer]:
        """Fresh (generator, critic) optimizers with the papers' settings.

        `beta_1` overrides Adam's β1, which the references disagree on for WGAN-GP
        (Algorithm 1 and the later `gan_64x64.py`: 0; `gan_toy.py`, `gan_cifar.py`,
        `gan_mnist.py` and the paper's Appendix E: 0.5). `learning_rate` overrides both
        optimizers' rate and `critic_learning_rate` the critic's alone (two time-scale
        updates, Heusel et al. 2017). `decay_steps` = (generator updates, critic updates)
        decays each rate linearly to 0 over its optimizer's own updates, as
        `gan_cifar_resnet.py` does (`lr_decay`): each optimizer counts its own, so the
        critic's decays over every critic iteration of the run.
        """
        if not self.adam and beta_1 is not None:
            raise ConfigError(
                f"beta_1={beta_1} applies to Adam; this {self.name} trains with RMSProp."
            )
        generator_rate = self.learning_rate if learning_rate is None else learning_rate
        critic_rate = generator_rate if critic_learning_rate is None else critic_learning_rate
        rates = [generator_rate, critic_rate]
        if decay_steps is not None:
            decay = keras.optimizers.schedules.PolynomialDecay
            rates = [
                decay(rate, steps, end_learning_rate=0.0)
                for rate, steps in zip(rates, decay_steps, strict=True)
            ]
        if not self.adam:
            return _rmsprop(rates[0]), _rmsprop(rates[1])
        beta_1 = self.beta_1 if beta_1 is None else beta_1
        return _adam(rates[0], beta_1, self.beta_2), _adam(rates[1], beta_1, self.beta_2)


def _adam(learning_rate, beta_1: float, beta_2: float) -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=1e-8)


def _rmsprop(learning_rate) -> keras.optimizers.Optimizer:
    return keras.optimizers.RMSprop(learning_rate, rho=0.99, epsilon=1e-8)


class Wasserstein(Objective):
    """E D(x̃) − E D(x) for the critic, −E D(x̃) for the generator (both WGAN papers)."""

    @property
    def wasserstein(self) -> bool:
        return True

    def critic_loss(self, real_scores, fake_scores):
        return ops.mean(fake_scores) - ops.mean(real_scores)

    def generator_loss(self, fake_scores):
        return -ops.mean(fake_scores)


class NonSaturating(Objective):
    """DCGAN with the −log D trick, on logits (the critic has no sigmoid)."""

    def critic_loss(self, real_scores, fake_scores):
        return 0.5 * (ops.mean(ops.softplus(fake_scores)) + ops.mean(ops.softplus(-real_scores)))

    def generator_loss(self, fake_scores):
        return ops.mean(ops.softplus(-fake_scores))

    def logs(self, real_scores, fake_scores) -> dict:
        """The Jensen–Shannon estimate of WGAN Fig. 4: the critic loss is −V(D, G)/2 and
        max_D V = 2·JS − log 4 (Goodfellow et al. 2014, Theorem 1), so a well-trained
        discriminator's loss L gives JS ≈ log 2 − L (in [0, log 2] at the optimal D; one
        batch of a D short of it can read below 0)."""
        return {"js_estimate": math.log(2.0) - self.critic_loss(real_scores, fake_scores)}


class LeastSquares(Objective):
    """LSGAN with targets 1 (real) and 0 (fake), as in the WGAN-GP reference's `lsgan` mode."""

    def critic_loss(self, real_scores, fake_scores):
        return 0.5 * (ops.mean(ops.square(real_scores - 1.0)) + ops.mean(ops.square(fake_scores)))

    def generator_loss(self, fake_scores):
        return ops.mean(ops.square(fake_scores - 1.0))


def acgan_loss(labels, logits):
    """An AC-GAN head's term: the mean cross-entropy of its class logits against the labels
    (`gan_cifar_resnet.py`: `ACGAN_SCALE` × it on real images for the critic,
    `ACGAN_SCALE_G` × it on the fakes for the generator; the weights are `GAN.compile`'s)."""
    return ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))


def acgan_accuracy(labels, logits):
    """How often the AC-GAN head's most likely class is the label (logged on real images)."""
    predicted = ops.cast(ops.argmax(logits, axis=-1), "int32")
    return ops.mean(ops.cast(ops.equal(predicted, labels), "float32"))


OBJECTIVES: dict[str, Objective] = {
    "wgan": Wasserstein("wgan", critic_steps=5, learning_rate=5e-5, clip_value=0.01, warmup=True),
    "wgan-gp": Wasserstein(
        "wgan-gp",
        critic_steps=5,
        learning_rate=1e-4,
        adam=True,
        beta_1=0.0,
        beta_2=0.9,
        gp_weight=10.0,
    ),
    "dcgan": NonSaturating(
        "dcgan", critic_steps=1, learning_rate=2e-4, adam=True, beta_1=0.5, beta_2=0.999
    ),
    "lsgan": LeastSquares("lsgan", critic_steps=1, learning_rate=1e-4),
}


def get(name: str | Objective) -> Objective:
    """Looks an objective up by name (an `Objective` passes through)."""
    if isinstance(name, Objective):
        return name
    if name not in OBJECTIVES:
        raise ConfigError(f"Unknown objective {name!r}; choose one of {', '.join(OBJECTIVES)}.")
    return OBJECTIVES[name]
