"""`benchmarks/speed.py` end to end at toy size: a kwgan row per installed backend beside the
plain PyTorch peer, as JSON lines and a Markdown table.

speed.py runs every row in a subprocess of the row's own backend, whatever the backend it is
started on, so these tests are `backend_neutral`: one run covers every backend."""

import importlib.util
import json
from pathlib import Path

import pytest

from scripts import BACKEND, ROOT, ok, run_script

SPEED = ROOT / "benchmarks" / "speed.py"
INSTALLED = tuple(b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b))
FIELDS = {
    "workload",
    "kind",
    "backend",
    "device",
    "precision",
    "batch_size",
    "dim",
    "image_size",
    "iterations",
    "warmup",
    "it_per_s",
    "tflop_per_iteration",
    "tflop_per_s",
    "fraction_of_peak",
    "peer_it_per_s",
    "ratio_vs_peer",
    "fit_it_per_s",
    "ratio_vs_fit",
    "peak_rss_bytes",
    "peak_device_bytes",
    "last_logs",
    "timed_out",
    "error",
    "versions",
}


def _speed(tmp_path, *args: str, backends: tuple[str, ...] = (BACKEND,)) -> tuple[list, Path]:
    """Runs speed.py on `backends` (a subprocess per row, whatever this process's backend);
    its rows (checked against --out) and table."""
    out, table = tmp_path / "speed.jsonl", tmp_path / "speed.md"
    command = ["--workloads", "toy", "--backends", ",".join(backends), "--precisions", "float32"]
    command += ["--dim", "8", "--device", "cpu", "--peak_size=64", "--peak_seconds=0.02"]
    command += [*args, f"--out={out}", f"--markdown={table}"]
    proc = ok(run_script(SPEED, *command))
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert rows == [json.loads(line) for line in out.read_text().splitlines()]
    return rows, table


@pytest.mark.backend_neutral  # every installed backend's row, once, beside one peer
def test_speed_smoke(tmp_path):
    rows, table = _speed(
        tmp_path, "--batch_sizes=8", "--iterations=1", "--warmup=1", backends=INSTALLED
    )
    peaks = [row for row in rows if row["kind"] == "peak"]
    peer, *kwgan_rows = rows[len(peaks) :]
    # torch (the peer's library) first, then each other installed backend, both dtypes
    libraries = ["torch", *(b for b in INSTALLED if b != "torch")]
    assert [(r["library"], r["dtype"], r["op"]) for r in peaks] == [
        (library, dtype, op)
        for library in libraries
        for dtype in ("float32", "bfloat16")
        for op in ("matmul", "conv")
    ]
    assert all(r["tflop_per_s"] > 0 for r in peaks)
    best = max(r["tflop_per_s"] for r in peaks if r["dtype"] == "float32")
    assert [row["backend"] for row in kwgan_rows] == list(INSTALLED)
    assert peer["kind"] == "peer" and not (peer["error"] or peer["timed_out"])
    assert peer["it_per_s"] > 0 and peer["tflop_per_iteration"] > 0
    assert peer["fraction_of_peak"] == pytest.approx(peer["tflop_per_s"] / best)
    lines = table.read_text().splitlines()
    assert lines[0].startswith("# ") and "| workload | backend | precision |" in table.read_text()
    assert any(line.startswith("| toy | plain PyTorch peer (cpu) |") for line in lines)
    for row in kwgan_rows:
        backend = row["backend"]
        assert set(peer) == set(row) == FIELDS
        assert row["kind"] == "kwgan" and not (row["error"] or row["timed_out"]), backend
        assert row["it_per_s"] > 0
        assert row["peer_it_per_s"] == peer["it_per_s"]
        assert row["ratio_vs_peer"] == pytest.approx(row["it_per_s"] / peer["it_per_s"])
        assert row["peak_rss_bytes"] > 2**20
        assert row["tflop_per_iteration"] == peer["tflop_per_iteration"]  # the peer counts
        assert row["tflop_per_s"] == pytest.approx(row["it_per_s"] * row["tflop_per_iteration"])
        assert row["fraction_of_peak"] == pytest.approx(row["tflop_per_s"] / best)
        assert {"d_loss", "g_loss", "gp"} <= set(row["last_logs"])
        assert any(line.startswith(f"| toy | {backend} (cpu) | float32 | 8 |") for line in lines)


@pytest.mark.backend_neutral  # the rows' arithmetic; toy.py's loop runs on every backend elsewhere
def test_experiment_loop_is_timed_beside_the_bare_fit(tmp_path):
    """At the toy experiment's own batch (256, fp32) a row times experiments/toy.py's whole
    loop, and its ratio to the bare `fit` row of the same backend is the quotient."""
    rows, table = _speed(
        tmp_path, "--batch_sizes=256", "--iterations=2", "--warmup=1", "--peer=", "--nopeak"
    )
    fit, experiment = rows
    assert (fit["kind"], experiment["kind"]) == ("kwgan", "experiment")
    assert not (experiment["error"] or experiment["timed_out"]) and experiment["it_per_s"] > 0
    assert experiment["fit_it_per_s"] == fit["it_per_s"]
    assert experiment["ratio_vs_fit"] == pytest.approx(experiment["it_per_s"] / fit["it_per_s"])
    assert "experiments/toy.py loop" in table.read_text()


@pytest.mark.backend_neutral  # tf.data, whatever the Keras backend
@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="times tf.data")
def test_input_pipeline_reports_rate_and_cores_needed():
    command = ["--files=8", "--batches=2", "--warmup=1", "--batch_size=4", "--sources=folder"]
    command += ["--train_it_per_s=10", "--critic_steps=5"]
    proc = ok(run_script(SPEED.with_name("input_pipeline.py"), *command, timeout=300))
    (row,) = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert row["source"] == "folder" and row["images_per_s"] > 0
    assert row["needed_images_per_s"] == 10 * 5 * 4
    per_core = row["images_per_s"] / row["cpu_cores"]
    assert row["cores_needed"] == pytest.approx(200 / per_core, abs=0.06)  # rounded to 0.1
