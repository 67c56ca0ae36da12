"""Build a real Argos Translate package at test time: a CTranslate2 Transformer with random weights, a
SentencePiece model trained on a few lines of zh/ru/en, metadata.json, zipped as ``.argosmodel``.

Random weights translate into garbage words, deterministically: tests assert structure, determinism, the
cache and the glossary, never meaning. The benchmark uses the same builder at transformer-base size.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

CORPUS = """\
习近平会见王毅。中俄两国人民友谊源远流长！双方同意加强合作；会谈在友好气氛中举行……
外交部发言人毛宁主持例行记者会。记者问：中方对此有何评论？普京总统访问北京。
新华社北京电 国家主席习近平今天在人民大会堂同俄罗斯总统普京举行会谈。
两国人民的利益高度契合，我们愿同各方一道推动构建人类命运共同体。
Президент России Владимир Путин провёл переговоры с Председателем КНР Си Цзиньпином.
Министр иностранных дел Сергей Лавров встретился с Ван И, т.е. с главой МИД Китая.
В.Путин заявил, что отношения двух стран находятся на беспрецедентно высоком уровне!
Официальный представитель МИД Мария Захарова ответила на вопросы журналистов? Да.
The President of Russia held talks with the President of China in the Kremlin.
Foreign Minister Sergei Lavrov met Wang Yi; the talks were held in a friendly atmosphere.
Xi Jinping Putin Lavrov Wang Yi Zakharova Peskov Shoigu Mishustin Medvedev Li Qiang.
"""
LANG_NAMES = {"zh": "Chinese", "ru": "Russian", "en": "English"}


def train_sentencepiece(vocab_size: int = 400) -> bytes:
    import sentencepiece as spm

    out = io.BytesIO()
    lines = [line for line in CORPUS.splitlines() if line] * 4
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=out,
        vocab_size=vocab_size,
        character_coverage=1.0,
        model_type="unigram",
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
        seed_sentencepiece_size=10000,
    )
    return out.getvalue()


def _vocabulary(sp_bytes: bytes, size: int | None) -> list[str]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_proto=sp_bytes)
    vocab = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    return vocab + [f"<extra_{i}>" for i in range(max(0, (size or 0) - len(vocab)))]


def _shape(name: str, d: int, ffn: int, vocab: int) -> tuple[int, ...]:
    if "embeddings" in name or "projection" in name:
        return (vocab, d)
    if "layer_norm" in name:
        return (d,)
    fused = {"self_attention/linear_0": 3 * d, "/attention/linear_1": 2 * d}
    out = next((n for key, n in fused.items() if key in name), d)
    if "ffn/linear_0" in name:
        return (ffn, d)
    if "ffn/linear_1" in name:
        return (d, ffn)
    return (out, d)


def build_model(
    model_dir: Path,
    vocab: list[str],
    *,
    layers: int,
    d_model: int,
    ffn: int,
    heads: int,
    quantization: str | None,
    seed: int,
) -> None:
    from ctranslate2.specs import model_spec, transformer_spec

    spec = transformer_spec.TransformerSpec.from_config((layers, layers), heads)
    rng = np.random.default_rng(seed)

    def fill(layer, name, value):
        if value is not None:
            return
        attr = name.rsplit("/", 1)[-1]
        shape = _shape(name, d_model, ffn, len(vocab))
        if attr == "gamma":
            array = np.ones(shape, dtype=np.float32)
        elif attr == "beta":
            array = np.zeros(shape, dtype=np.float32)
        else:
            array = rng.standard_normal(size=shape, dtype=np.float32) * np.float32(0.08)
        setattr(layer, attr, array)

    model_spec.visit_spec(spec, fill)
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.validate()
    spec.optimize(quantization=quantization)
    model_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(model_dir))


def build_package(
    dest: Path,
    *,
    lang: str = "zh",
    to: str = "en",
    version: str = "1.0",
    layers: int = 1,
    d_model: int = 32,
    ffn: int = 64,
    heads: int = 2,
    vocab_size: int | None = None,
    quantization: str | None = None,
    seed: int = 0,
) -> Path:
    """Write ``translate-<lang>_<to>-<version>.argosmodel`` into ``dest`` and return its path."""
    top = f"translate-{lang}_{to}-{version.replace('.', '_')}"
    work = Path(tempfile.mkdtemp(prefix="tinymodel-"))
    try:
        root = work / top
        root.mkdir()
        sp_bytes = train_sentencepiece()
        (root / "sentencepiece.model").write_bytes(sp_bytes)
        build_model(
            root / "model",
            _vocabulary(sp_bytes, vocab_size),
            layers=layers,
            d_model=d_model,
            ffn=ffn,
            heads=heads,
            quantization=quantization,
            seed=seed,
        )
        (root / "metadata.json").write_text(
            json.dumps(
                {
                    "package_version": version,
                    "argos_version": "1.9",
                    "type": "translate",
                    "from_code": lang,
                    "from_name": LANG_NAMES.get(lang, lang),
                    "to_code": to,
                    "to_name": LANG_NAMES.get(to, to),
                }
            ),
            encoding="utf-8",
        )
        archive = Path(dest) / f"{top}.argosmodel"
        Path(dest).mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:  # random weights do not compress
            for path in sorted(root.rglob("*")):
                zf.write(path, path.relative_to(work).as_posix())
        return archive
    finally:
        shutil.rmtree(work, ignore_errors=True)
