"""`benchmarks/speed.py` end to end at toy size: one kwgan row on the current backend beside
the plain PyTorch peer, as JSON lines and a Markdown table."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

SPEED = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"
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
    "tflop_per_s",
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


def _speed(tmp_path, *args: str) -> tuple[list[dict], Path]:
    """Runs speed.py on the current backend; its rows (checked against --out) and table."""
    backend = keras.backend.backend()
    out, table = tmp_path / "speed.jsonl", tmp_path / "speed.md"
    command = [sys.executable, str(SPEED), "--workloads", "toy", "--backends", backend]
    command += ["--precisions", "float32", "--dim", "8", "--device", "cpu", *args]
    command += [f"--out={out}", f"--markdown={table}"]
    proc = subprocess.run(
        command,
        env={**os.environ, "KERAS_BACKEND": backend},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert rows == [json.loads(line) for line in out.read_text().splitlines()]
    return rows, table


def test_speed_smoke(tmp_path):
    backend = keras.backend.backend()
    rows, table = _speed(tmp_path, "--batch_sizes=8", "--iterations=1", "--warmup=1")
    peer, row = rows
    assert set(peer) == set(row) == FIELDS
    assert (peer["kind"], row["kind"], row["backend"]) == ("peer", "kwgan", backend)
    assert not (row["error"] or row["timed_out"] or peer["error"] or peer["timed_out"])
    assert row["it_per_s"] > 0 and peer["it_per_s"] > 0
    assert row["peer_it_per_s"] == peer["it_per_s"]
    assert row["ratio_vs_peer"] == pytest.approx(row["it_per_s"] / peer["it_per_s"])
    assert row["peak_rss_bytes"] > 2**20 and row["tflop_per_s"] is None
    assert {"d_loss", "g_loss", "gp"} <= set(row["last_logs"])

    lines = table.read_text().splitlines()
    assert lines[0].startswith("# ") and "| workload | backend | precision |" in table.read_text()
    assert any(line.startswith(f"| toy | {backend} (cpu) | float32 | 8 |") for line in lines)
    assert any(line.startswith("| toy | plain PyTorch peer (cpu) |") for line in lines)


def test_experiment_loop_is_timed_beside_the_bare_fit(tmp_path):
    """At the toy experiment's own batch (256, fp32) a row times experiments/toy.py's whole
    loop, and its ratio to the bare `fit` row of the same backend is the quotient."""
    rows, table = _speed(tmp_path, "--batch_sizes=256", "--iterations=2", "--warmup=1", "--peer=")
    fit, experiment = rows
    assert (fit["kind"], experiment["kind"]) == ("kwgan", "experiment")
    assert not (experiment["error"] or experiment["timed_out"]) and experiment["it_per_s"] > 0
    assert experiment["fit_it_per_s"] == fit["it_per_s"]
    assert experiment["ratio_vs_fit"] == pytest.approx(experiment["it_per_s"] / fit["it_per_s"])
    assert "experiments/toy.py loop" in table.read_text()


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="backend-independent tf.data: timed once"
)
def test_input_pipeline_reports_rate_and_cores_needed():
    script = SPEED.with_name("input_pipeline.py")
    command = [sys.executable, str(script), "--files=8", "--batches=2", "--warmup=1"]
    command += ["--batch_size=4", "--sources=folder", "--train_it_per_s=10", "--critic_steps=5"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (row,) = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert row["source"] == "folder" and row["images_per_s"] > 0
    assert row["needed_images_per_s"] == 10 * 5 * 4
    per_core = row["images_per_s"] / row["cpu_cores"]
    assert row["cores_needed"] == pytest.approx(200 / per_core, abs=0.06)  # rounded to 0.1
