"""Reproduces the WGAN-GP paper's character-level language model (§5.5, Table 4).

The defaults are the reference `gan_language.py`: lines of 32 characters, one-hot, a 1-D
ResNet generator with a softmax output (no sampling) against a 1-D ResNet critic, both 512
wide with five residual blocks; batch 64, 10 critic iterations per generator iteration,
λ = 10, Adam(1e-4, β = (0.5, 0.9)), 200 000 generator iterations. Every `--eval_every`
generator iterations it decodes 640 samples by argmax into `samples/samples_<it>.txt` and
logs the Jensen–Shannon divergences (bits) between their character n-gram distributions
(n = 1 … 4) and the corpus', beside the reference's baseline: the first 640 corpus lines
against the rest.

The paper trained on the One Billion Word benchmark (`--corpus lm1b`, read through
tensorflow-datasets where it is prepared). Offline, the default corpus is the English prose
of the Python Language Reference that CPython ships (`--corpus pydoc`,
`kwgan.data.text.prose_sentences`); `--text FILE` trains on any text file, a line per example.
The paper reports that the standard GAN objective gave no comparable text with these
networks; `--objective dcgan` trains the same networks with it (Adam 2e-4, β = (0.5, 0.999), one
critic iteration, the reference's `dcgan` settings in its other scripts).

    python experiments/language.py --out runs/language                  # the paper's run (GPU)
    python experiments/language.py --dim 64 --steps 250 --eval_every 25 \
        --out runs/language_wgan-gp                                      # README, CPU
    python experiments/language.py --objective dcgan --dim 64 --steps 1000 --eval_every 25 \
        --out runs/language_dcgan
    python experiments/language.py --text my_corpus.txt --out runs/language_mine

Writes into --out: samples/samples_<it>.txt, evaluations.jsonl (each evaluation as it
happens), metrics.json (baseline, final and every divergence, the losses, timings), js.png
(the divergences against generator iterations), run.json (the flags) and checkpoints/.
Rerunning with the same --out resumes where a killed run stopped and ends exactly as the
uninterrupted run would; a larger --steps continues a finished run.

The flags are the fields of `kwgan.experiment.LanguageConfig`, and the run is
`kwgan.experiment.run(config)`: the same run from Python is

    kwgan.experiment.run(kwgan.experiment.LanguageConfig(text="my_corpus.txt", out="runs/x"))
"""

import startup  # noqa: F401  (first: silences TensorFlow's start-up log before it loads)
from kwgan.cli import main
from kwgan.experiment.language import LanguageConfig

if __name__ == "__main__":
    main(LanguageConfig)
