"""``tts-gen data prepare``: an LJSpeech-layout corpus -> manifests + cached log-mels + statistics.

Besides the manifests, ``<split>.txt`` lists ``id|normalized text`` per line, which ``tts-gen synth
--text-file`` reads (writing ``<id>.wav``).
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from tqdm import tqdm

from tts_gen.audio import AudioConfig
from tts_gen.config import to_dict
from tts_gen.data.corpus import SPLITS, CorpusEntry, read_metadata, split_ids
from tts_gen.data.features import FeatureStore, compute_stats, extract_features, feature_key
from tts_gen.data.manifest import PreparedInfo, Utterance, read_manifest, write_manifest
from tts_gen.files import write_json, write_text


def _text_units(text: str) -> tuple[str, list[str]]:
    """Worker: transcript -> (normalized text, phoneme units)."""
    from tts_gen.text import normalize_text, phonemize

    normalized = normalize_text(text)
    return normalized, phonemize(normalized)


def process_texts(texts: list[str], num_workers: int = 0) -> list[tuple[str, list[str]]]:
    """Normalizes and phonemizes transcripts in parallel, in order, with a progress bar."""
    workers = num_workers or os.cpu_count() or 1
    if workers == 1 or len(texts) < 16:
        return [_text_units(t) for t in tqdm(texts, desc="text", unit="utt")]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return list(tqdm(pool.imap(_text_units, texts, chunksize=16), total=len(texts), desc="text", unit="utt"))


def previous_texts(out_dir: Path) -> dict[str, tuple[str, str, list[str]]]:
    """``{id: (text, normalized, phonemes)}`` from manifests already in ``out_dir`` (a rerun reuses them)."""
    found = {}
    for split in SPLITS:
        if (out_dir / f"{split}.jsonl").is_file():
            for utt in read_manifest(out_dir / f"{split}.jsonl"):
                found[utt.id] = (utt.text, utt.normalized, utt.phonemes)
    return found


def read_durations(path: str | Path) -> dict[str, list[int]]:
    """External durations: lines ``id|d1 d2 ...`` with one frame count per phoneme-mode token."""
    durations = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        utt_id, _, values = line.partition("|")
        try:
            durations[utt_id.strip()] = [int(v) for v in values.split()]
        except ValueError:
            raise ValueError(f"{path}:{number}: expected 'id|d1 d2 ...' with integer frame counts") from None
    return durations


def prepare_corpus(
    root: str | Path,
    out_dir: str | Path,
    corpus: str = "ljspeech",
    audio: AudioConfig = AudioConfig(),
    num_workers: int = 0,
    seed: int = 1234,
    durations: str | Path | None = None,
) -> PreparedInfo:
    """Writes ``train/val/test.jsonl``, the feature cache, its statistics and ``prepare.json``.

    Rerunning on the same folder skips the features that already exist.

    Args:
        root: LJSpeech-layout corpus folder.
        out_dir: the prepared data folder to write.
        corpus: ``ljspeech`` / ``ljflite`` (standard split) or ``ljspeech-format`` (seeded split).
        audio: audio settings of the feature cache.
        num_workers: worker processes (0 = one per CPU core).
        seed: seed of the split of ``ljspeech-format`` corpora.
        durations: optional file of external durations (``id|d1 d2 ...``) for the ``external`` aligner.
    """
    root, out_dir = Path(root).resolve(), Path(out_dir)
    entries = read_metadata(root)
    splits = split_ids([e.id for e in entries], corpus, seed)
    if not splits["train"]:
        raise ValueError(f"no utterance of {root} falls in the training split")
    out_dir.mkdir(parents=True, exist_ok=True)
    store = FeatureStore(out_dir, audio)
    lengths = extract_features([(e.id, str(e.audio)) for e in entries], store, num_workers)
    previous = previous_texts(out_dir)
    todo = [e for e in entries if previous.get(e.id, ("",))[0] != e.text]
    processed = dict(zip((e.id for e in todo), process_texts([e.text for e in todo], num_workers)))
    external = read_durations(durations) if durations else {}
    by_id: dict[str, Utterance] = {}
    for entry in entries:
        normalized, phonemes = processed[entry.id] if entry.id in processed else previous[entry.id][1:]
        n_samples, n_frames = lengths[entry.id]
        utt = _utterance(entry, normalized, phonemes, n_samples, n_frames)
        utt.durations = external.get(entry.id)
        by_id[entry.id] = utt
    for split in SPLITS:
        write_manifest(out_dir / f"{split}.jsonl", [by_id[i] for i in splits[split]])
        lines = "".join(f"{i}|{by_id[i].normalized}\n" for i in splits[split])
        write_text(out_dir / f"{split}.txt", lines)  # for `tts-gen synth --text-file`
    store.save_stats(compute_stats(store, splits["train"]))
    info = PreparedInfo(
        corpus=corpus,
        root=str(root),
        feature_key=feature_key(audio),
        audio=audio,
        counts={split: len(ids) for split, ids in splits.items()},
    )
    write_json(out_dir / "prepare.json", to_dict(info))
    return info


def _utterance(entry: CorpusEntry, normalized: str, phonemes: list[str], n_samples: int, n_frames: int) -> Utterance:
    return Utterance(
        id=entry.id,
        audio=str(entry.audio),
        text=entry.text,
        normalized=normalized,
        phonemes=phonemes,
        n_samples=n_samples,
        n_frames=n_frames,
    )
