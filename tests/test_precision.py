"""kwgan.precision: float32, mixed_bfloat16 and `auto`, and the experiments' precision field."""

import json

import keras
import numpy as np
import pytest

import kwgan
from kwgan.errors import ConfigError, ResumeError
from kwgan.experiment import ImageConfig, presets
from kwgan.precision import _cpu_flags, native_bfloat16, policy, resolve


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile\n\n")
    assert {"amx_bf16", "amx_tile", "fpu"} <= _cpu_flags(str(cpuinfo))
    assert _cpu_flags(str(tmp_path / "absent")) == set()


@pytest.mark.parametrize("native, auto", [("1", "mixed_bfloat16"), ("0", "float32")])
def test_auto_follows_the_hardware(monkeypatch, native, auto):
    monkeypatch.setenv("KWGAN_NATIVE_BFLOAT16", native)
    assert native_bfloat16() is (native == "1")
    assert resolve("auto") == auto
    assert resolve("float32") == "float32" and resolve("mixed_bfloat16") == "mixed_bfloat16"
    with pytest.raises(ConfigError, match="precision must be one of"):
        resolve("bf16")


@pytest.mark.backend_neutral
@pytest.mark.parametrize("backend, native", [("tensorflow", True), ("torch", True), ("jax", False)])
def test_cpu_units_count_where_the_backend_uses_them(monkeypatch, backend, native):
    """An `avx512_bf16` CPU and no GPU: bfloat16 is native on TensorFlow and torch (oneDNN),
    not on JAX, whose XLA:CPU runs bfloat16 at float32's speed."""
    monkeypatch.delenv("KWGAN_NATIVE_BFLOAT16", raising=False)
    monkeypatch.setattr(kwgan.precision, "_cpu_flags", lambda: {"avx2", "avx512_bf16"})
    monkeypatch.setattr(kwgan.precision, "_gpu_bfloat16", lambda: False)
    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    kwgan.precision._detected.cache_clear()
    try:
        assert native_bfloat16() is native
        assert resolve("auto") == ("mixed_bfloat16" if native else "float32")
    finally:
        kwgan.precision._detected.cache_clear()


def test_policy_applies_inside_and_restores_the_users():
    before = keras.config.dtype_policy().name
    with policy("mixed_bfloat16") as name:
        assert name == "mixed_bfloat16"
        assert keras.layers.Dense(2).compute_dtype == "bfloat16"
    assert keras.config.dtype_policy().name == before
    with pytest.raises(ConfigError):
        with policy("float16"):
            pass
    assert keras.config.dtype_policy().name == before


def test_the_config_field_is_checked():
    with pytest.raises(ConfigError, match="precision"):
        ImageConfig(precision="bf16")


def test_digits_in_mixed_bfloat16_records_it_and_refuses_another_on_resume(tmp_path, monkeypatch):
    monkeypatch.setenv("KWGAN_NATIVE_BFLOAT16", "1")
    out = tmp_path / "run"
    config = presets.digits(
        generator_dim=8, critic_dim=8, batch_size=16, num_samples=20, export=None, steps=1
    )
    config = config.replace(out=str(out), precision="auto", sample_every=1)
    before = keras.config.dtype_policy().name
    metrics = kwgan.experiment.run(config)
    assert keras.config.dtype_policy().name == before  # the user's policy is back
    assert metrics["config"]["precision"] == "mixed_bfloat16"  # auto, resolved, recorded
    assert json.loads((out / "run.json").read_text())["config"]["precision"] == "mixed_bfloat16"
    samples = np.load(out / "samples.npy")
    assert samples.dtype == np.float32 and np.isfinite(samples).all()
    assert np.isfinite(metrics["logs"]["gp"]).all()
    gan = keras.saving.load_model(out / "gan.keras")
    assert gan.critic.layers[1].compute_dtype == "bfloat16"
    assert gan.critic.layers[1].variable_dtype == "float32"
    with pytest.raises(ResumeError, match="precision"):
        kwgan.experiment.run(config.replace(precision="float32", steps=2))


@pytest.mark.backend_neutral
def test_a_run_recorded_before_the_field_existed_resumes_at_its_default(tmp_path):
    """A run.json without `precision` (an older kwgan's) held float32, although `auto` is
    the field's default now (a run records `auto` resolved)."""
    assert ImageConfig().precision == "auto"
    config = {**ImageConfig().to_dict(), "precision": "float32"}
    old = {k: v for k, v in config.items() if k != "precision"}
    with kwgan.run.Run(tmp_path, old) as run:
        run.complete(config["steps"])
    defaults = ImageConfig.defaults()
    with kwgan.run.Run(tmp_path, config, defaults=defaults) as run:  # float32: accepted
        assert run.already_complete()
    mixed = {**config, "precision": "mixed_bfloat16"}
    with pytest.raises(ResumeError, match="--precision 'float32' → 'mixed_bfloat16'"):
        kwgan.run.Run(tmp_path, mixed, defaults=defaults).__enter__()
