"""Generator and critic architectures from the WGAN and WGAN-GP papers."""

from kwgan.architectures.toy import toy_critic, toy_generator
