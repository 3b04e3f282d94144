"""The four adversarial objectives and the papers' defaults for each.

Every objective is a pair of `keras.ops` functions of critic scores (so one definition
serves all backends) plus the hyperparameters the papers trained it with. Sources are the
reference code's exact formulas (`gan_64x64.py`, papers.md §2.8) and Algorithm 1 of each
paper:

| objective | critic loss | generator loss | optimizer | critic steps | regulariser |
|---|---|---|---|---|---|
| `wgan` | E D(x̃) − E D(x) | −E D(x̃) | RMSProp 5e-5 | 5 (100 warm-up) | clip ±0.01 |
| `wgan-gp` | E D(x̃) − E D(x) + λ·GP | −E D(x̃) | Adam 1e-4, β=(0, 0.9) | 5 | λ = 10 |
| `dcgan` | ½[BCE(D(x̃),0) + BCE(D(x),1)] | BCE(D(x̃),1) (−log D trick) | Adam 2e-4, β1 = 0.5 | 1 | — |
| `lsgan` | ½[E (D(x)−1)² + E D(x̃)²] | E (D(x̃)−1)² | RMSProp 1e-4 | 1 | — |

Optimizer details follow the references rather than Keras defaults: Adam ε = 1e-8 (TF1 and
PyTorch), RMSProp with the PyTorch WGAN repo's decay 0.99 and ε = 1e-8.
"""

from __future__ import annotations

import dataclasses

import keras
from keras import ops

from kwgan.errors import ConfigError


def _adam(learning_rate: float, beta_1: float, beta_2: float) -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=1e-8)


def _rmsprop(learning_rate: float, beta_1: float | None = None) -> keras.optimizers.Optimizer:
    if beta_1 is not None:
        raise ConfigError(f"beta_1={beta_1} applies to Adam; this objective trains with RMSProp.")
    return keras.optimizers.RMSprop(learning_rate, rho=0.99, epsilon=1e-8)


@dataclasses.dataclass(frozen=True)
class Objective:
    """An adversarial objective: losses of critic scores plus the papers' defaults.

    Attributes:
        name: registry name.
        critic_steps: critic iterations per generator iteration.
        gp_weight: λ of the gradient penalty; 0 means no penalty.
        clip_value: weight-clipping box; `None` means no clipping.
        warmup: whether the WGAN repo's schedule (100 critic iterations for the first 25
            generator iterations and every 500th) is on by default.
        adam: whether the papers train it with Adam (so `optimizers(beta_1=...)` applies).
    """

    name: str
    critic_steps: int
    gp_weight: float = 0.0
    clip_value: float | None = None
    warmup: bool = False
    adam: bool = False

    def critic_loss(self, real_scores, fake_scores):
        """The critic's loss without any penalty (a scalar)."""
        raise NotImplementedError

    def generator_loss(self, fake_scores):
        """The generator's loss (a scalar)."""
        raise NotImplementedError

    def optimizers(
        self, beta_1: float | None = None
    ) -> tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer]:
        """Fresh (generator, critic) optimizers with the papers' settings.

        `beta_1` overrides Adam's β1, which the references disagree on for WGAN-GP
        (Algorithm 1 and the later `gan_64x64.py`: 0; `gan_toy.py`, `gan_cifar.py`,
        `gan_mnist.py` and the paper's Appendix E: 0.5).
        """
        raise NotImplementedError


class Wasserstein(Objective):
    """E D(x̃) − E D(x) for the critic, −E D(x̃) for the generator (both WGAN papers)."""

    def critic_loss(self, real_scores, fake_scores):
        return ops.mean(fake_scores) - ops.mean(real_scores)

    def generator_loss(self, fake_scores):
        return -ops.mean(fake_scores)

    def optimizers(self, beta_1=None):
        if self.gp_weight:
            beta_1 = 0.0 if beta_1 is None else beta_1
            return _adam(1e-4, beta_1, 0.9), _adam(1e-4, beta_1, 0.9)
        return _rmsprop(5e-5, beta_1), _rmsprop(5e-5, beta_1)


class NonSaturating(Objective):
    """DCGAN with the −log D trick, on logits (the critic has no sigmoid)."""

    def critic_loss(self, real_scores, fake_scores):
        return 0.5 * (ops.mean(ops.softplus(fake_scores)) + ops.mean(ops.softplus(-real_scores)))

    def generator_loss(self, fake_scores):
        return ops.mean(ops.softplus(-fake_scores))

    def optimizers(self, beta_1=None):
        beta_1 = 0.5 if beta_1 is None else beta_1
        return _adam(2e-4, beta_1, 0.999), _adam(2e-4, beta_1, 0.999)


class LeastSquares(Objective):
    """LSGAN with targets 1 (real) and 0 (fake), as in the WGAN-GP reference's `lsgan` mode."""

    def critic_loss(self, real_scores, fake_scores):
        return 0.5 * (ops.mean(ops.square(real_scores - 1.0)) + ops.mean(ops.square(fake_scores)))

    def generator_loss(self, fake_scores):
        return ops.mean(ops.square(fake_scores - 1.0))

    def optimizers(self, beta_1=None):
        return _rmsprop(1e-4, beta_1), _rmsprop(1e-4, beta_1)


OBJECTIVES: dict[str, Objective] = {
    "wgan": Wasserstein("wgan", critic_steps=5, clip_value=0.01, warmup=True),
    "wgan-gp": Wasserstein("wgan-gp", critic_steps=5, gp_weight=10.0, adam=True),
    "dcgan": NonSaturating("dcgan", critic_steps=1, adam=True),
    "lsgan": LeastSquares("lsgan", critic_steps=1),
}


def get(name: str | Objective) -> Objective:
    """Looks an objective up by name (an `Objective` passes through)."""
    if isinstance(name, Objective):
        return name
    if name not in OBJECTIVES:
        raise ConfigError(
            f"Unknown objective {name!r}; choose one of {', '.join(OBJECTIVES)}."
        )
    return OBJECTIVES[name]
