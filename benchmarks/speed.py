"""Generator iterations per second of WGAN-GP with kwgan, beside a plain PyTorch peer.

One generator iteration is what the papers count: 5 critic iterations with the gradient
penalty + 1 generator iteration. kwgan trains with `gan.fit(...)` exactly as users do, one
real batch per critic step, on synthetic data (the input pipeline is not measured); the
warm-up (tracing, compilation) is excluded. Workloads:

| name | networks |
|---|---|
| toy | `gan_toy.py`'s 3 × 512 ReLU MLPs on 2-D points (`kwgan.architectures.toy_*`) |
| digits32 | `cifar-dcgan` 32×32×1, width 32: the digits network (README "Digits") |
| dcgan64 | `dcgan` 64×64×3, width 64: the WGAN-GP paper's DCGAN, the peer's own workload |
| infogan | `infogan` 28×28×1, width 64, latent 64: the Fashion-MNIST network (Lucic et al. 2018) |

Every (workload, backend, precision, batch size) row runs in its own subprocess, so each
gets a fresh backend and dtype policy (`mixed_bfloat16` is set before the models are built).
For each (workload, precision, batch size) the plain PyTorch peer (`torch_peer.py`, what a
PyTorch user writes instead of kwgan) runs first with the same sizes, so every row's
`ratio_vs_peer` (kwgan it/s ÷ peer it/s) compares two speeds measured side by side. Rows
are JSON lines (stdout, `--out`); `--markdown` writes them as a table.

TFLOP/s: the peer counts one generator iteration's floating-point operations as it runs
(PyTorch's `FlopCounterMode`: matrix products and convolutions, the penalty's double
backward included), and every row of its group divides that by its own time. With `--peak`
(the default) `peak.py` first measures this machine's float32 and bfloat16 matrix product
and convolution throughput, and each row shows its fraction of the best of them in its own
precision (`fraction_of_peak`): how far the step is from what the hardware does.

    python benchmarks/speed.py --out runs/speed.jsonl --markdown runs/speed.md
    python benchmarks/speed.py --workloads dcgan64 --backends jax,torch --device cuda

With the peer on the CPU (`--device cpu`, the default) jax × dcgan64 is skipped: XLA:CPU
takes minutes per iteration of those transposed convolutions (`--skip=` runs it; every row
is also cut off after `--row_timeout` seconds and reported `"timed_out": true`).
`benchmarks/device.sh` runs this on a lent GPU machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from absl import app, flags

PRECISIONS = ("float32", "mixed_bfloat16")
BACKENDS = ("tensorflow", "jax", "torch")
CPU_SKIP = ("jax:dcgan64",)  # XLA:CPU: minutes per iteration of the 64×64 deconvolutions

flags.DEFINE_list("workloads", ["toy", "digits32", "dcgan64", "infogan"], "Workloads to time.")
flags.DEFINE_list("backends", list(BACKENDS), "Keras backends.")
flags.DEFINE_list("precisions", list(PRECISIONS), "Keras dtype policies.")
flags.DEFINE_list("batch_sizes", ["64", "256"], "Batch sizes.")
flags.DEFINE_integer("iterations", None, "Timed generator iterations (default: per workload).")
flags.DEFINE_integer("warmup", None, "Untimed generator iterations (default: per workload).")
flags.DEFINE_integer("dim", None, "Network width instead of the workload's (smoke tests).")
flags.DEFINE_integer("image_size", None, "Image size instead of the workload's (32 or 64).")
flags.DEFINE_string(
    "peer", str(Path(__file__).with_name("torch_peer.py")), "The peer script; '' skips it."
)
flags.DEFINE_enum(
    "device", "cpu", ["cpu", "cuda"], "Where the peer runs (kwgan's backends take any GPU)."
)
flags.DEFINE_list(
    "skip", None, "backend:workload rows to leave out (default: jax:dcgan64 with --device cpu)."
)
flags.DEFINE_float("row_timeout", 1800, "Seconds before a row is cut off (timed_out).")
flags.DEFINE_boolean(
    "terminate_on_nan", True, "GAN.fit's NaN guard, which reads every step's losses on the host."
)
flags.DEFINE_boolean(
    "experiments",
    True,
    "Also time the experiment script's own loop where a row is in its setting (toy: "
    "experiments/toy.py at batch 256; digits32: experiments/lsun.py --dataset digits at "
    "batch 64; fp32), with its ratio to the bare fit.",
)
flags.DEFINE_boolean(
    "peak", True, "First measure the machine's matrix throughput (peak.py) for each row's fraction."
)
flags.DEFINE_integer("peak_size", 2048, "peak.py's matrix side.")
flags.DEFINE_float("peak_seconds", 1.0, "peak.py's timed seconds per measurement.")
flags.DEFINE_string("out", None, "Also write the JSON lines to this file.")
flags.DEFINE_string("markdown", None, "Write the rows as a Markdown table to this file.")
flags.DEFINE_string("row", None, "Internal: the row (JSON) a measuring subprocess runs.")
FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class Workload:
    """One network pair and how the peer builds the same one."""

    name: str
    arch: str | None  # kwgan.architectures.build name; None for the toy MLPs
    image_size: int | None  # None: 2-D points
    channels: int
    dim: int
    iterations: int  # default timed generator iterations, sized for a 2-core CPU
    warmup: int
    peer_args: tuple[str, ...]  # torch_peer.py flags selecting these networks
    tflop_at_batch_64: float | None = None  # cost of one generator iteration

    def shape(self, image_size: int | None) -> tuple[int, ...]:
        return (2,) if self.image_size is None else (image_size, image_size, self.channels)

    def tflop(self, batch_size: int, dim: int, image_size: int | None) -> float | None:
        """TFLOP of one generator iteration; known only at the workload's own sizes."""
        if self.tflop_at_batch_64 is None or (dim, image_size) != (self.dim, self.image_size):
            return None
        return self.tflop_at_batch_64 * batch_size / 64


@dataclasses.dataclass(frozen=True)
class Experiment:
    """An experiment script training a workload's networks at one batch size."""

    script: str
    args: tuple[str, ...]
    batch_size: int


WORKLOADS = {
    "toy": Workload("toy", None, None, 0, 512, 40, 4, ("--arch", "mlp")),
    # gan_cifar.py's critic has no normalisation under the penalty; the peer follows it.
    "digits32": Workload("digits32", "cifar-dcgan", 32, 1, 32, 10, 2, ("--critic_norm", "none")),
    # 1.217 TFLOP: XLA's cost analysis of the whole jitted step at batch 64, double
    # backward included; linear in the batch size.
    "dcgan64": Workload("dcgan64", "dcgan", 64, 3, 64, 3, 1, (), tflop_at_batch_64=1.217),
    # compare_gan's critic has no normalisation under the penalty; the peer's neither.
    "infogan": Workload("infogan", "infogan", 28, 1, 64, 10, 2, ("--arch", "infogan")),
}


ROOT = Path(__file__).resolve().parents[1]
# The experiment script that trains each workload's networks in the workload's own setting
# (batch, width, fp32), and its flags: its whole loop (data, callbacks, evaluations) is timed
# beside the bare `fit`, so the two cannot drift apart unseen.
EXPERIMENTS = {
    "toy": Experiment("experiments/toy.py", ("--dataset=8gaussians",), batch_size=256),
    "digits32": Experiment(
        "experiments/lsun.py",
        ("--dataset=digits", "--arch=cifar-dcgan", "--image_size=32", "--objective=wgan-gp"),
        batch_size=64,
    ),
}


# -- the measuring subprocess -----------------------------------------------------------------


def _count(variable) -> int:
    """A counter's value on the host (which waits for the step that wrote it)."""
    import keras

    return int(keras.ops.convert_to_numpy(variable))


def _batches(pool, steps: int) -> Iterator[tuple]:
    """`steps` real batches, the pool's in turn, as the peer reuses its pool: synthetic
    data, so the input pipeline costs next to nothing and is not what is measured. (Keras
    takes a generator's batches as tuples.)"""
    for step in range(steps):
        yield (pool[step % len(pool)],)


def _train(gan, pool, generator_iterations: int) -> tuple[float, int, dict[str, float]]:
    """Trains `generator_iterations` more generator iterations with one `fit`; returns the
    seconds, the generator iterations done and the last step's logs."""
    steps = gan.steps_for(generator_iterations)
    critic_before = _count(gan.critic_optimizer.iterations)
    done_before = _count(gan.generator_iterations)
    start = time.perf_counter()
    history = gan.fit(_batches(pool, steps), steps_per_epoch=steps, shuffle=False, verbose=0)
    done = _count(gan.generator_iterations) - done_before
    seconds = time.perf_counter() - start
    # Exactly one batch per critic step: with fewer, `fit` would stop early and the time
    # per iteration would come out too small.
    assert _count(gan.critic_optimizer.iterations) - critic_before == steps
    return seconds, done, {name: float(values[-1]) for name, values in history.history.items()}


def _networks(workload: Workload, dim: int, image_size: int | None) -> tuple[Any, Any]:
    import kwgan

    if workload.arch is None:
        return kwgan.architectures.toy_generator(dim=dim), kwgan.architectures.toy_critic(dim=dim)
    return kwgan.architectures.build(
        workload.arch, image_size=image_size, channels=workload.channels, dim=dim
    )


def _device_memory(backend: str) -> tuple[str, int | None]:
    """The device the row ran on and its peak allocated bytes (None on the CPU)."""
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return device.platform, (device.memory_stats() or {}).get("peak_bytes_in_use")
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return "cuda", torch.cuda.max_memory_allocated()
        return "cpu", None
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return "gpu", tf.config.experimental.get_memory_info("GPU:0")["peak"]
    return "cpu", None


def measure(row: dict[str, Any]) -> dict[str, Any]:
    """Times one row on this process's backend (KERAS_BACKEND)."""
    import importlib
    import resource

    # isort: off
    import kwgan  # before Keras loads TensorFlow: kwgan's defaults for it
    import keras
    import numpy as np

    # isort: on

    workload = WORKLOADS[row["workload"]]
    keras.config.set_dtype_policy(row["precision"])  # before the models are built
    keras.utils.set_random_seed(0)
    gan = kwgan.GAN(*_networks(workload, row["dim"], row["image_size"]), seed=0)
    gan.compile("wgan-gp", terminate_on_nan=FLAGS.terminate_on_nan)
    shape = (8, row["batch_size"], *workload.shape(row["image_size"]))
    pool = np.random.default_rng(0).uniform(-1, 1, shape).astype("float32")
    if row["warmup"]:
        _train(gan, pool, row["warmup"])
    seconds, done, logs = _train(gan, pool, row["iterations"])
    backend = keras.backend.backend()
    device, peak_device = _device_memory(backend)
    return {
        "device": device,
        "it_per_s": done / seconds,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "peak_device_bytes": peak_device,
        "last_logs": logs,
        "versions": {
            "keras": keras.__version__,
            backend: importlib.import_module(backend).__version__,
        },
    }


# -- the parent: rows, peer, output -----------------------------------------------------------


def _execute(command: list[str], backend: str | None = None) -> subprocess.CompletedProcess | None:
    """`command` run to its end (None if it ran past --row_timeout); a failure's stderr is
    passed on."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if backend:
        env["KERAS_BACKEND"] = backend
    try:
        proc = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=FLAGS.row_timeout
        )
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode:
        sys.stderr.write(proc.stderr[-4000:])
    return proc


def _run(command: list[str], backend: str | None = None) -> dict[str, Any]:
    """The JSON line a measuring subprocess prints last, or what went wrong."""
    proc = _execute(command, backend)
    if proc is None:
        return {"timed_out": True}
    lines = proc.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        result = {}
    if proc.returncode and "error" not in result:
        errors = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
        result = {"error": errors[-1]}
    return result


def _peer(workload: Workload, config: dict[str, Any]) -> dict[str, Any]:
    """Runs the peer on the same networks, sizes and precision."""
    command = [sys.executable, FLAGS.peer, "--device", FLAGS.device]
    command += ["--iters", str(config["iterations"]), "--warmup", str(config["warmup"])]
    command += ["--batch", str(config["batch_size"]), "--dim", str(config["dim"])]
    if config["image_size"] is not None:
        command += ["--size", str(config["image_size"]), "--channels", str(workload.channels)]
    command += [*workload.peer_args, *(["--bf16"] if config["precision"] != "float32" else [])]
    result = _run(command)
    if "gen_iters_per_s" not in result:
        return result
    return {
        "device": result["device"],
        "it_per_s": result["gen_iters_per_s"],
        "peak_rss_bytes": result["peak_rss_bytes"],
        "peak_device_bytes": result["peak_device_bytes"],
        "last_logs": dict(zip(["d_loss", "g_loss"], result["final_losses"], strict=True)),
        "versions": {"torch": result["torch"]},
        "tflop_per_iteration": result.get("tflop_per_iter"),
    }


def _experiment(experiment: Experiment, config: dict[str, Any], backend: str) -> dict[str, Any]:
    """Times the experiment script's own training loop: its steady-state seconds per
    generator iteration (`Stopwatch`: each `fit` from the end of its first, compiling, step),
    read from the run's metrics.json."""
    steps = config["warmup"] + config["iterations"]
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, str(ROOT / experiment.script), *experiment.args]
        command += [f"--steps={steps}", f"--dim={config['dim']}", f"--out={out}/run"]
        command += [f"--batch_size={config['batch_size']}"]
        result = _run(command, backend)
        metrics_path = Path(out, "run", "metrics.json")
        if result.get("timed_out") or not metrics_path.exists():
            return result if result.get("timed_out") else {"error": result.get("error", "no run")}
        metrics = json.loads(metrics_path.read_text())
    seconds = metrics["steady_seconds_per_generator_iteration"]
    return {"device": "cpu" if FLAGS.device == "cpu" else None, "it_per_s": 1 / seconds}


def _row(
    config: dict[str, Any],
    kind: str,
    backend: str,
    result: dict[str, Any],
    tflop: float | None = None,
    peak: float | None = None,
) -> dict:
    """A complete output row: every field present, speeds as measured (unrounded). `tflop`:
    one generator iteration's TFLOP; `peak`: the machine's measured TFLOP/s in the row's
    precision."""
    speed = result.get("it_per_s")
    tflop_per_s = speed * tflop if speed and tflop else None
    return {
        **config,
        "kind": kind,
        "backend": backend,
        "device": result.get("device"),
        "it_per_s": speed,
        "tflop_per_iteration": tflop,
        "tflop_per_s": tflop_per_s,
        "fraction_of_peak": tflop_per_s / peak if tflop_per_s and peak else None,
        "peer_it_per_s": None,
        "ratio_vs_peer": None,
        "fit_it_per_s": None,
        "ratio_vs_fit": None,
        "peak_rss_bytes": result.get("peak_rss_bytes"),
        "peak_device_bytes": result.get("peak_device_bytes"),
        "last_logs": result.get("last_logs"),
        "timed_out": bool(result.get("timed_out")),
        "error": result.get("error"),
        "versions": result.get("versions"),
    }


def _configs() -> Iterator[tuple[Workload, dict[str, Any]]]:
    for name in FLAGS.workloads:
        workload = WORKLOADS[name]
        for precision in FLAGS.precisions:
            for batch_size in (int(b) for b in FLAGS.batch_sizes):
                image_size = None
                if workload.image_size is not None:
                    image_size = FLAGS.image_size or workload.image_size
                yield (
                    workload,
                    {
                        "workload": name,
                        "precision": precision,
                        "batch_size": batch_size,
                        "dim": FLAGS.dim or workload.dim,
                        "image_size": image_size,
                        "iterations": FLAGS.iterations or workload.iterations,
                        "warmup": workload.warmup if FLAGS.warmup is None else FLAGS.warmup,
                    },
                )


def peaks() -> Iterator[dict[str, Any]]:
    """`peak.py`'s rows (kind "peak"): this machine's matrix throughput per library and dtype,
    measured on the CPU (a GPU's peak is not measured)."""
    if not FLAGS.peak or FLAGS.device != "cpu":
        return
    command = [sys.executable, str(Path(__file__).with_name("peak.py"))]
    libraries = dict.fromkeys(["torch", *FLAGS.backends])  # the peer's library first, once
    command += [f"--libraries={','.join(libraries)}", f"--size={FLAGS.peak_size}"]
    command.append(f"--seconds={FLAGS.peak_seconds}")
    proc = _execute(command)
    for line in proc.stdout.splitlines() if proc else ():
        if line.startswith("{"):
            yield {"kind": "peak", **json.loads(line)}


def best_peak(peak_rows: list[dict[str, Any]]) -> dict[str, float]:
    """The best measured TFLOP/s per Keras precision: float32 rows for `float32`, bfloat16
    rows for `mixed_bfloat16`."""
    dtype = {"float32": "float32", "mixed_bfloat16": "bfloat16"}
    return {
        precision: max((r["tflop_per_s"] for r in peak_rows if r["dtype"] == d), default=None)
        for precision, d in dtype.items()
    }


def rows(peak: dict[str, float]) -> Iterator[dict[str, Any]]:
    """Every row, the peer's first in each (workload, precision, batch size) group."""
    skip = set(CPU_SKIP if FLAGS.skip is None and FLAGS.device == "cpu" else FLAGS.skip or ())
    for workload, config in _configs():
        backends = [b for b in FLAGS.backends if f"{b}:{workload.name}" not in skip]
        if not backends:
            continue
        peer = _peer(workload, config) if FLAGS.peer else {}
        tflop = peer.get("tflop_per_iteration") or workload.tflop(
            config["batch_size"], config["dim"], config["image_size"]
        )
        # row(kind, backend, result): a complete row of this group
        row = functools.partial(_row, config, tflop=tflop, peak=peak.get(config["precision"]))
        peer_speed = None
        if FLAGS.peer:
            yield row("peer", "torch", peer)
            peer_speed = peer.get("it_per_s")
        for backend in backends:
            command = [sys.executable, __file__, f"--row={json.dumps(config)}"]
            command.append(f"--terminate_on_nan={FLAGS.terminate_on_nan}")
            fitted = row("kwgan", backend, _run(command, backend))
            yield _with_ratio(fitted, "peer", peer_speed)
            experiment = EXPERIMENTS.get(workload.name)
            if FLAGS.experiments and experiment and _is_experiment_setting(experiment, config):
                timed = row("experiment", backend, _experiment(experiment, config, backend))
                timed = _with_ratio(timed, "peer", peer_speed)
                yield _with_ratio(timed, "fit", fitted["it_per_s"])


def _is_experiment_setting(experiment: Experiment, config: dict[str, Any]) -> bool:
    return config["precision"] == "float32" and config["batch_size"] == experiment.batch_size


def _with_ratio(row: dict[str, Any], name: str, speed: float | None) -> dict[str, Any]:
    """`row` with `<name>_it_per_s` and `ratio_vs_<name>` (its speed ÷ that one) filled in."""
    if row["it_per_s"] and speed:
        row[f"{name}_it_per_s"] = speed
        row[f"ratio_vs_{name}"] = row["it_per_s"] / speed
    return row


def _significant(x: float | None, digits: int = 3) -> str:
    """`x` to `digits` significant figures, without an exponent; '—' for None."""
    if x is None:
        return "—"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x)))) if x else 0
    return f"{x:.{decimals}f}"


def _mib(n: int | None) -> str:
    return "—" if n is None else f"{n / 2**20:,.0f}"


def markdown(table_rows: list[dict[str, Any]], argv: list[str]) -> str:
    """The rows as Markdown tables (the measured peak, then the rows), headed by the command
    and the machine."""
    lines = [
        "# WGAN-GP generator iterations per second",
        "",
        f"`python benchmarks/speed.py {' '.join(argv[1:])}` on {platform.node()} "
        f"({os.cpu_count()} CPUs), {datetime.date.today()}. One generator iteration: 5 critic "
        "iterations with the gradient penalty + 1 generator iteration; warm-up excluded. "
        "TFLOP: one iteration's, counted by the peer; peak: the best matrix throughput "
        "`benchmarks/peak.py` measured in the row's precision in this invocation. "
        "Peak memory: the process's resident set (RSS) and, on a GPU, allocated device memory.",
        "",
    ]
    peak_rows = [r for r in table_rows if r["kind"] == "peak"]
    if peak_rows:
        lines += ["| peak: library | dtype | op | TFLOP/s |", "|---|---|---|---|"]
        lines += [
            f"| {r['library']} | {r['dtype']} | {r['op']} | {_significant(r['tflop_per_s'])} |"
            for r in peak_rows
        ]
        lines.append("")
    lines += [
        "| workload | backend | precision | batch | it/s | TFLOP/s | of peak | ratio vs peer "
        "| ratio vs bare fit | peak RSS (MiB) | peak device (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table_rows:
        if row["kind"] == "peak":
            continue
        backend = row["backend"]
        if row["kind"] == "peer":
            backend = "plain PyTorch peer"
        elif row["kind"] == "experiment":
            backend = f"{EXPERIMENTS[row['workload']].script} loop, {backend}"
        speed = _significant(row["it_per_s"])
        if row["timed_out"]:
            speed = f"timed out (> {FLAGS.row_timeout:g} s)"
        elif row["error"]:
            speed = f"failed: {row['error'][:80]}"
        of_peak = row["fraction_of_peak"]
        lines.append(
            f"| {row['workload']} | {backend} ({row['device'] or '?'}) | {row['precision']} "
            f"| {row['batch_size']} | {speed} | {_significant(row['tflop_per_s'])} "
            f"| {'—' if of_peak is None else f'{of_peak:.0%}'} "
            f"| {_significant(row['ratio_vs_peer'])} | {_significant(row['ratio_vs_fit'])} "
            f"| {_mib(row['peak_rss_bytes'])} "
            f"| {_mib(row['peak_device_bytes'])} |"
        )
    return "\n".join(lines) + "\n"


def _check_flags() -> None:
    for name, given, known in [
        ("workload", FLAGS.workloads, WORKLOADS),
        ("backend", FLAGS.backends, BACKENDS),
        ("precision", FLAGS.precisions, PRECISIONS),
    ]:
        unknown = set(given) - set(known)
        if unknown:
            raise app.UsageError(f"Unknown {name}(s) {sorted(unknown)}; choose from {list(known)}.")
    if not all(b.isdigit() and int(b) > 0 for b in FLAGS.batch_sizes):
        raise app.UsageError(f"--batch_sizes must be positive integers, got {FLAGS.batch_sizes}.")


def main(argv: list[str]) -> None:
    del argv  # flags only
    if FLAGS.row:
        try:
            print(json.dumps(measure(json.loads(FLAGS.row))))
        except Exception as error:
            print(json.dumps({"error": f"{type(error).__name__}: {error}"[:300]}))
            raise
        return
    _check_flags()
    for path in (FLAGS.out, FLAGS.markdown):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    done = []

    def measured() -> Iterator[dict[str, Any]]:
        peak_rows = list(peaks())
        yield from peak_rows
        yield from rows(best_peak(peak_rows))

    with open(FLAGS.out, "w") if FLAGS.out else contextlib.nullcontext() as out:
        for row in measured():
            line = json.dumps(row)
            print(line, flush=True)
            done.append(row)
            if out:
                out.write(line + "\n")
                out.flush()
            if FLAGS.markdown:  # rewritten after every row: a cut-off run keeps its rows
                Path(FLAGS.markdown).write_text(markdown(done, sys.argv))


if __name__ == "__main__":
    app.run(main)
