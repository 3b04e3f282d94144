"""Sample-quality metrics, computed on NumPy arrays after training (no Keras backend needed)."""

from kwgan.metrics.digits import (
    classifier_score,
    digits_report,
    frechet_distance,
    label_accuracy,
    real_digits,
    real_frechet_floor,
    to_digits8,
)
from kwgan.metrics.distances import exact_w1, w1_floor
from kwgan.metrics.modes import mode_stats
