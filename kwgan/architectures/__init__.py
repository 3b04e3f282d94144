"""Generator and critic architectures from the WGAN and WGAN-GP papers."""

from kwgan.architectures import sampler
from kwgan.architectures.cifar import (
    cifar_dcgan_critic,
    cifar_dcgan_generator,
    cifar_resnet_critic,
    cifar_resnet_generator,
)
from kwgan.architectures.dcgan import (
    conv_critic,
    conv_generator,
    crippled_dcgan_generator,
    dcgan_critic,
    dcgan_generator,
    fc_generator,
    gated_dcgan_critic,
    gated_dcgan_generator,
)
from kwgan.architectures.infogan import infogan_critic, infogan_generator
from kwgan.architectures.language import language_critic, language_generator
from kwgan.architectures.layers import (
    ChannelLayerNorm,
    ConditionalBatchNorm,
    ConvMeanPool,
    GatedActivation,
    MeanPoolConv,
    SubpixelConv2D,
    UpsampleConv2D,
)
from kwgan.architectures.layout import (
    DATA_FORMATS,
    FromNHWC,
    ToNHWC,
    default_data_format,
    to_channels_last,
)
from kwgan.architectures.mnist import mnist_critic, mnist_generator
from kwgan.architectures.registry import NAMES, Architecture, build, get
from kwgan.architectures.resnet import (
    bottleneck_block,
    good_critic,
    good_generator,
    residual_block,
    resnet101_critic,
    resnet101_generator,
)
from kwgan.architectures.toy import NoisyTarget, fixed_generator, toy_critic, toy_generator
from kwgan.architectures.wgan_repo import (
    wgan_dcgan_critic,
    wgan_dcgan_generator,
    wgan_mlp_critic,
    wgan_mlp_generator,
)
