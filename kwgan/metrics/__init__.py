"""Sample-quality metrics, computed on NumPy arrays after training.

The digits metrics need no Keras backend; FID and KID run the Inception network
(`kwgan.metrics.inception`) through Keras on whichever backend is active, and precision,
recall, density and coverage (`kwgan.metrics.manifold`) are NumPy on its features.
"""

from kwgan.metrics import inception, manifold, ngrams
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
from kwgan.metrics.fid_kid import (
    RealStatistics,
    fid,
    fid_score,
    frechet_distance_from_stats,
    kid,
    kid_score,
    real_statistics,
)
from kwgan.metrics.manifold import density_coverage, prdc, precision_recall
from kwgan.metrics.modes import mode_stats
