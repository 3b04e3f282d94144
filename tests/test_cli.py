"""Every experiment script answers a bad flag value with exactly one line on stderr and exit 1,
before it trains.

The table runs each script in this process (as `python script.py ARGS` runs it, through
`runpy`), with stderr captured at the file-descriptor level, so a traceback, an absl usage
hint or a framework log line would show up as extra lines. Whether a *fresh* interpreter
also prints nothing before that line — TensorFlow logs while it is imported — needs a new
process: one subprocess case per backend.
"""

from __future__ import annotations

import runpy
import sys

import pytest
from absl import flags

from scripts import ROOT, run_script

EXPERIMENTS = ROOT / "experiments"

# (script, arguments, a fragment the one line must hold: the field or flag it names)
BAD_VALUES = [
    ("lsun.py", "--objective wgan-gpp", "objective 'wgan-gpp'"),
    ("lsun.py", "--dataset 9gaussians", "dataset '9gaussians'"),
    ("lsun.py", "--arch dcgna", "arch 'dcgna'"),
    ("lsun.py", "--dim 0", "dim must be >= 1"),
    ("lsun.py", "--generator_dim 0", "generator_dim must be >= 1"),
    ("lsun.py", "--latent_dim 0", "latent_dim must be >= 1"),
    ("lsun.py", "--batch_size -1", "batch_size must be >= 1"),
    ("lsun.py", "--dataset digits --eval_every 0", "eval_every must be >= 1"),
    ("lsun.py", "--steps abc", "--steps"),
    ("lsun.py", "--steps 0", "steps must be >= 1, got 0"),
    ("lsun.py", "--steps -5", "steps must be >= 1, got -5"),
    ("lsun.py", "--lr -1", "lr must be >= 0"),
    ("lsun.py", "--seed -1", "seed must be >= 0, got -1"),
    ("toy.py", "--seed 4294967296", "seed must be <= 4294967295, got 4294967296"),
    ("lsun.py", "--nosuchflag", "nosuchflag"),
    ("lsun.py", "stray_argument", "stray_argument"),
    ("lsun.py", "--fid_every 5", "fid_every needs fid_samples"),
    ("lsun.py", "--fid_samples 10 --fid_every_samples 6", "fid_every_samples needs fid_every"),
    ("lsun.py", "--dataset digits --fid_samples 10", "test split"),
    ("lsun.py", "--num_processes 2", "num_processes"),
    ("lsun.py", "--dataset digits --arch cifar-dcgan --image_size 48", "48"),
    ("lsun.py", "--dataset folder --data_dir {tmp}/missing --image_size 16 --dim 4", "missing"),
    ("digits.py", "--critic_steps 0", "critic_steps must be >= 1"),
    ("digits.py", "--optimizer sgd", "optimizer 'sgd'"),
    ("toy.py", "--dataset 9gaussians", "9gaussians"),
    ("toy.py", "--dim 0", "dim"),
    ("toy.py", "--eval_every 0", "eval_every"),
    ("toy.py", "--steps 0", "steps must be >= 1, got 0"),
    ("toy.py", "--eval_samples 0 --steps 2", "eval_samples must be >= 1, got 0"),
    ("language.py", "--seq_len 0", "seq_len"),
    # Too few lines for the n-gram baseline reported after training (tiny, should it train).
    ("language.py", "--max_examples 600 --steps 1 --dim 4 --critic_steps 1", "600 lines"),
    ("language.py", "--text {tmp}/no_such_corpus.txt", "no_such_corpus.txt"),
    ("convergence.py", "--thresholds 3,high", "thresholds"),
    ("loss_meaning.py", "--mlp_dim 0", "mlp_dim"),
    ("architectures.py", "--num_architectures 0", "num_architectures"),
    ("overfitting.py", "--objective wgan-gpp", "wgan-gpp"),
    ("overfitting.py", "--train_size 0", "train_size"),
    ("recipes.py", "--recipes ns-gan,bigbigan", "bigbigan"),
    ("precision_study.py", "--recipe ns-gan", "no gradient penalty"),
    ("precision_study.py", "--seeds 0,x", "--seeds"),
    ("seeds.py", "--seeds 1,1", "names one seed twice"),
    ("seeds.py", "--seeds 0,-1", "seeds must be >= 0, got -1"),
    ("seeds.py", "--recipe ns-gan --ema_start -1", "ema_start must be >= 0"),
]


def _run_in_process(script: str, argv: list[str]) -> int:
    """Runs `experiments/<script>` as `__main__` with `argv`; its exit status. The flags
    `kwgan.cli` defined for it are removed afterwards, so the next script defines its own."""
    sys.argv = [str(EXPERIMENTS / script), *argv]
    sys.path.insert(0, str(EXPERIMENTS))
    try:
        runpy.run_path(str(EXPERIMENTS / script), run_name="__main__")
        return 0
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.path.remove(str(EXPERIMENTS))
        flags.FLAGS.unparse_flags()
        for flag in flags.FLAGS.get_flags_for_module("kwgan.cli"):
            delattr(flags.FLAGS, flag.name)


@pytest.mark.parametrize(("script", "arguments", "fragment"), BAD_VALUES)
def test_bad_value_is_one_stderr_line(script, arguments, fragment, tmp_path, capfd, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the scripts' default outputs (runs/...) stay in tmp_path
    argv = [*arguments.format(tmp=tmp_path).split(), "--out", str(tmp_path / "out")]
    code = _run_in_process(script, argv)
    err = capfd.readouterr().err
    lines = err.splitlines()
    assert code == 1, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{script}: error: "), err
    assert fragment in lines[0], err
    assert not (tmp_path / "out" / "checkpoints").exists()  # refused before training


@pytest.mark.parametrize("script", ["lsun.py", "toy.py"])
def test_fresh_interpreter_prints_only_the_error(script, tmp_path):
    """No TensorFlow start-up log before the line, in a new process on this backend."""
    result = run_script(f"experiments/{script}", "--dim", "0", "--out", tmp_path / "out")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{script}: error: dim must be >= 1, got 0."]


def test_verbose_keeps_the_frameworks_log(tmp_path):
    """--verbose is the way back to TensorFlow's own start-up lines (where it logs any)."""
    result = run_script(
        "experiments/lsun.py",
        "--verbose",
        "--dim",
        "0",
        "--out",
        tmp_path / "out",
        env={"TF_CPP_MIN_LOG_LEVEL": None},
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "lsun.py: error: dim must be >= 1, got 0."
