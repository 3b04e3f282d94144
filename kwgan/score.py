"""Score an exported generator from the SavedModel alone, as its training run scored it.

    python -m kwgan.score saved_models/fashion_mnist [--n 10000] [--seed 0] [--json s.json]

An export's `kwgan.json` states the FID and KID its run measured in the training process,
with the Keras model. This checks that claim the way a user of the export would: it draws
`--n` fresh samples through the SavedModel's `serve` signature (`kwgan.sample.generate`,
NumPy-seeded noise, no Keras model involved) and scores them with the same evaluator the
experiments use (`kwgan.metrics.evaluators.FrechetInception`: FID and KID against the
dataset's test split, precision, recall, density and coverage in the same Inception
features). It prints the numbers beside the metadata's; FID of 10 000 samples varies by
about ±0.2 between noise draws, so a difference of a point or more means the export does
not generate what was scored.

`--n` defaults to the sample count behind the metadata's FID (FID's bias depends on it: a
number compares only with numbers at the same count). The dataset comes from the metadata;
`--data_dir` is where its files are, as for the experiments. Needs TensorFlow (to load the
SavedModel) and the FID Inception weights.
"""

from __future__ import annotations

import os
from typing import Any

from absl import flags

from kwgan.cli import run, saved_model_argument
from kwgan.errors import ConfigError, ExportError
from kwgan.export import load_metadata
from kwgan.io import check_output, write_json


def score(
    path: str | os.PathLike, n: int | None = None, seed: int = 0, data_dir: str | None = None
) -> dict[str, Any]:
    """FID, KID, precision, recall, density and coverage of `n` samples of the export at
    `path` against its dataset's test split, and `claimed`: the metadata's own FID entry
    (None if the export has none).

    Raises `ExportError` if the metadata names no dataset (an export made outside the
    experiments: score its samples with `FrechetInception.score_samples` instead) and
    `ConfigError` if `n` is missing and the metadata has no FID to take it from.
    """
    from kwgan import sample
    from kwgan.data import dataset_info
    from kwgan.metrics.evaluators import FrechetInception

    info = load_metadata(path)
    claimed = info.get("fid")
    n = _sample_count(n, claimed)
    if "dataset" not in info:
        raise ExportError(
            f"{os.fspath(path)!r} names no dataset in its kwgan.json (it was not exported by "
            "an experiment), so there is no test split to score it against."
        )
    if not dataset_info(info["dataset"]).has_test_split:
        raise ExportError(
            f"{os.fspath(path)!r} was trained on {info['dataset']!r}, which has no test split "
            "to score it against (FID needs held-out real images)."
        )
    evaluator = FrechetInception(
        info["dataset"],
        image_size=int(info["output_shape"][0]),
        samples=n,
        seed=seed,
        channels=info.get("recipe", {}).get("channels"),
        data_dir=data_dir,
        setting="--n",
    )
    evaluator.real  # noqa: B018 (a test split too small for n fails before sampling)
    scores = evaluator.score_samples(sample.generate(path, n, seed=seed))
    return {**scores, "seed": seed, "claimed": claimed}


def _sample_count(n: int | None, claimed: dict | None) -> int:
    if n is None:
        if claimed is None:
            raise ConfigError(
                "This export's kwgan.json has no FID to compare with, so no sample count to "
                "take: pass --n (10000 is the protocol of Lucic et al. 2018)."
            )
        return int(claimed["fid_samples"])
    if n < 2:
        raise ConfigError(f"--n must be at least 2 (FID needs a covariance), got {n}.")
    return n


def summary(scores: dict[str, Any]) -> str:
    """The scores in one paragraph, the metadata's claim beside them."""
    kid, kid_std = scores["kid"]
    lines = [
        f"FID {scores['fid']:.2f}, KID {kid:.4f} ± {kid_std:.4f} "
        f"({scores['fid_samples']} samples from the SavedModel, seed {scores['seed']}, "
        f"vs {scores['real_images']} test images)",
        f"precision {scores['precision']:.3f}, recall {scores['recall']:.3f}, "
        f"density {scores['density']:.3f}, coverage {scores['coverage']:.3f}",
    ]
    claimed = scores["claimed"]
    if claimed is not None:
        lines.append(
            f"kwgan.json claims FID {claimed['fid']:.2f}, KID {claimed['kid'][0]:.4f} "
            f"({claimed['fid_samples']} samples): FID difference "
            f"{scores['fid'] - claimed['fid']:+.2f}"
        )
    return "\n".join(lines)


def _define_flags() -> None:
    """Defined only when run as a CLI (as `kwgan.sample`'s), so importing `score` never
    clashes with the importer's own flags."""
    flags.DEFINE_integer("n", None, "Samples to score (default: as many as kwgan.json's FID).")
    flags.DEFINE_integer("seed", 0, "Seed of the N(0, I) noise and of KID's subsets.")
    flags.DEFINE_string("data_dir", None, "Where the dataset's files are (as the experiments).")
    flags.DEFINE_string("json", None, "Also write the scores to this JSON file.")
    flags.DEFINE_boolean("overwrite", False, "Replace a file already at --json.")


def _run(argv: list[str]) -> None:
    path = saved_model_argument(argv, "python -m kwgan.score DIR [--n 10000] [--json scores.json]")
    FLAGS = flags.FLAGS
    if FLAGS.json:  # refused before minutes of Inception, not after
        check_output(FLAGS.json, overwrite=FLAGS.overwrite)
    scores = score(path, FLAGS.n, FLAGS.seed, FLAGS.data_dir)
    if FLAGS.json:
        check_output(FLAGS.json, overwrite=FLAGS.overwrite)
        write_json(FLAGS.json, scores)
    print(summary(scores))


def main() -> None:
    _define_flags()
    run(_run)


if __name__ == "__main__":
    main()
