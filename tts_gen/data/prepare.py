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
from tts_gen.data.corpus import SPLITS, BadRow, BadRowsError, CorpusEntry, printable, scan_metadata, split_ids
from tts_gen.data.features import FeatureStore, compute_stats, extract_features, feature_key
from tts_gen.data.manifest import PreparedInfo, Utterance, file_checksum, read_manifest, write_manifest
from tts_gen.files import fsync_directory, write_json, write_text
from tts_gen.text.tokenizer import has_speech
from tts_gen.validation import finite_number, read_text_file


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
    for number, line in enumerate(read_text_file(path, "durations file").splitlines(), start=1):
        if not line.strip():
            continue
        utt_id, _, values = line.partition("|")
        try:
            durations[utt_id.strip()] = [int(v) for v in values.split()]
        except ValueError:
            raise ValueError(f"{path}:{number}: expected 'id|d1 d2 ...' with integer frame counts") from None
    return durations


DEFAULT_MAX_SECONDS = 20.0
"""Longest recording ``data prepare`` accepts by default: LJSpeech's longest is 10.1 s, and one long clip in a batch
multiplies the memory a training step needs."""
BAD_ROWS = "bad_rows.txt"


def prepare_corpus(
    root: str | Path,
    out_dir: str | Path,
    corpus: str = "ljspeech",
    audio: AudioConfig = AudioConfig(),
    num_workers: int = 0,
    seed: int = 1234,
    durations: str | Path | None = None,
    skip_bad: bool = False,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> PreparedInfo:
    """Writes ``train/val/test.jsonl``, the feature cache, its statistics and ``prepare.json``.

    Every row of ``metadata.csv`` is checked: a plain, unique id with a readable recording, a transcript with
    something to speak, at least as many mel frames as phonemes, and at most ``max_seconds`` of audio. Bad rows
    are listed all at once in ``bad_rows.txt`` and are an error, or are left out with ``skip_bad``. The split is
    made over every row with a usable id, so leaving a row out moves no other row to another split.

    ``prepare.json`` is deleted first and written last (with checksums of the manifests), so an interrupted run
    leaves a folder that training refuses. Rerunning on the same folder reuses the features of unchanged recordings.

    Args:
        root: LJSpeech-layout corpus folder.
        out_dir: the prepared data folder to write.
        corpus: ``ljspeech`` / ``ljflite`` (standard split) or ``ljspeech-format`` (seeded split).
        audio: audio settings of the feature cache.
        num_workers: worker processes (0 = one per CPU core).
        seed: seed of the split of ``ljspeech-format`` corpora.
        durations: optional file of external durations (``id|d1 d2 ...``) for the ``external`` aligner.
        skip_bad: leave bad rows out (counted in ``PreparedInfo.skipped``) instead of failing.
        max_seconds: the longest recording accepted (0 = no limit).

    Raises:
        BadRowsError: bad rows, unless ``skip_bad``.
    """
    root, out_dir = Path(root).resolve(), Path(out_dir)
    max_seconds = finite_number(max_seconds, "max_seconds", minimum=0.0)
    metadata = scan_metadata(root)
    entries = metadata.entries
    splits = split_ids([e.id for e in entries], corpus, seed)
    external = read_durations(durations) if durations else {}
    out_dir.mkdir(parents=True, exist_ok=True)
    mark_incomplete(out_dir)
    store = FeatureStore(out_dir, audio)
    extraction = extract_features([(e.id, str(e.audio)) for e in entries], store, num_workers)
    previous = previous_texts(out_dir)
    todo = [e for e in entries if e.id not in previous or previous[e.id][0] != e.text]
    processed = dict(zip((e.id for e in todo), process_texts([e.text for e in todo], num_workers)))
    by_id: dict[str, Utterance] = {}
    bad = list(metadata.bad)
    for entry in entries:
        problem = extraction.failures.get(entry.id)
        if problem is None:
            normalized, phonemes = processed[entry.id] if entry.id in processed else previous[entry.id][1:]
            n_samples, n_frames = extraction.lengths[entry.id]
            utt = _utterance(entry, normalized, phonemes, n_samples, n_frames)
            utt.durations = external.get(entry.id)
            problem = utterance_problem(utt, audio.sample_rate, max_seconds)
        if problem is None:
            by_id[entry.id] = utt
        else:
            bad.append(BadRow(entry.line, entry.id, problem))
    bad.sort(key=lambda row: row.line)
    _write_bad_rows(out_dir, root / "metadata.csv", bad)
    if bad and not skip_bad:
        advice = f"fix them, or leave them out with --skip-bad (all are listed in {out_dir / BAD_ROWS})"
        raise BadRowsError(root / "metadata.csv", bad, advice)
    splits = {split: [i for i in ids if i in by_id] for split, ids in splits.items()}
    if not splits["train"]:
        raise ValueError(f"no usable utterance of {root} falls in the training split")
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
        manifests={split: file_checksum(out_dir / f"{split}.jsonl") for split in SPLITS},
        skipped=len(bad),
        max_seconds=max_seconds,
    )
    write_json(out_dir / "prepare.json", to_dict(info))  # last: the folder is complete
    return info


def mark_incomplete(out_dir: Path) -> None:
    """Deletes the completion record before anything in the folder changes (see :class:`PreparedInfo`)."""
    (out_dir / "prepare.json").unlink(missing_ok=True)
    fsync_directory(out_dir)


def utterance_problem(utt: Utterance, sample_rate: int, max_seconds: float) -> str | None:
    """Why a manifest row cannot be trained on, or None."""
    if not has_speech(utt.phonemes):
        return f"the transcript {utt.text[:60]!r} has nothing to speak (no words after normalization)"
    if utt.n_frames < len(utt.phonemes):
        return f"its {utt.n_frames} mel frames are fewer than its {len(utt.phonemes)} phonemes: the recording is too short"
    seconds = utt.n_samples / sample_rate
    if max_seconds and seconds > max_seconds:
        return f"it lasts {seconds:.1f} s, more than the maximum of {max_seconds:g} s (--max-seconds)"
    return None


def _write_bad_rows(out_dir: Path, metadata: Path, bad: list[BadRow]) -> None:
    """``bad_rows.txt``: ``metadata.csv:<line>|id|reason`` per bad row; none when every row is good."""
    if bad:
        lines = (f"{metadata}:{row.line}|{printable(row.id)}|{row.reason}\n" for row in bad)
        write_text(out_dir / BAD_ROWS, "".join(lines))
    else:
        (out_dir / BAD_ROWS).unlink(missing_ok=True)


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
