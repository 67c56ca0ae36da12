"""``[translation] device`` and ``compute_type``: "cpu" and "auto" load the tiny real model and translate on
this machine; "cuda" without a GPU is one clear error that leaves the items pending."""

from __future__ import annotations

import pytest

from crawler.exceptions import ConfigError
from crawler.translation import models
from crawler.translation.engine import Engine, SentenceFailed, device_of
from crawler.translation.settings import TranslationSettings
from tests.test_translation import ZH, rows, store_items
from tests.tinymodel import build_package

SENTENCES = ["习近平会见王毅。", "双方同意加强合作。", "普京总统访问北京。"]


def cuda_devices() -> int:
    import ctranslate2

    return ctranslate2.get_cuda_device_count()


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> models.ModelPackage:
    folder = tmp_path_factory.mktemp("device")
    return models.install_file(build_package(folder, lang="zh"), folder / "packages")


def translate(package, **settings) -> tuple[str, list]:
    engine = Engine(package, TranslationSettings(beam_size=2, batch_size=8, max_decoding_length=12, **settings))
    try:
        return engine.device, engine.translate(SENTENCES)
    finally:
        engine.close()


def test_cpu_and_auto_load_and_translate(package):
    cpu_device, on_cpu = translate(package, device="cpu")
    auto_device, on_auto = translate(package, device="auto")
    assert cpu_device == "cpu" and auto_device == ("cuda" if cuda_devices() else "cpu")
    for result in (on_cpu, on_auto):
        assert len(result) == len(SENTENCES)
        assert all(isinstance(text, str) and text and not isinstance(text, SentenceFailed) for text in result)
    if auto_device == "cpu":
        assert on_auto == on_cpu  # the same device, the same (deterministic) output


@pytest.mark.parametrize("compute_type", ["float32", "int8", "auto", "int8_float16"])
def test_compute_types_load_where_the_device_has_them(package, compute_type):
    """A weight type the device lacks (a GPU's int8_float16 on a CPU) is a clear setting error, not a
    model that looks broken."""
    import ctranslate2

    device = device_of("auto", cuda_devices())
    if compute_type in ("auto", *ctranslate2.get_supported_compute_types(device)):
        _device, result = translate(package, device="auto", compute_type=compute_type)
        assert all(isinstance(text, str) and text for text in result)
    else:
        with pytest.raises(ConfigError, match=f'compute_type = "{compute_type}": not supported on {device}'):
            translate(package, device="auto", compute_type=compute_type)


def test_device_choice():
    assert device_of("auto", 0) == "cpu" and device_of("auto", 2) == "cuda"
    assert device_of("cpu", 2) == "cpu" and device_of("cuda", 1) == "cuda"
    with pytest.raises(ConfigError, match='device = "cuda": CTranslate2 finds no CUDA device'):
        device_of("cuda", 0)


@pytest.mark.skipif(cuda_devices() > 0, reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_is_one_clear_error_and_items_stay_pending(newsmon, tmp_path, package):
    config = tmp_path / "config.toml"
    config.write_text(f'[translation]\ndevice = "cuda"\npackages_dir = "{package.path.parent}"\n', encoding="utf-8")
    out = tmp_path / "output"
    store_items(out, "2026-11-27", [ZH])
    proc = newsmon("translate", "--pending", "--output", str(out), "--config", str(config))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert errors == [
        'newsmon: error: [translation] device = "cuda": CTranslate2 finds no CUDA device on this '
        'machine (no GPU, no NVIDIA driver, or no CUDA libraries); set device = "auto" or "cpu"'
    ]
    assert rows(out)["zh1"]["translation"]["status"] == "pending"


def test_an_unknown_device_names_the_config_line(newsmon, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[translation]\nbeam_size = 2\ndevice = "gpu"\n', encoding="utf-8")
    proc = newsmon("models", "list", "--config", str(config))
    assert proc.returncode == 2
    assert f"{config}:3: [translation] device: expected one of cpu, cuda, auto, got 'gpu'" in proc.stderr
