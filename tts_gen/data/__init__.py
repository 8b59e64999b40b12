"""Corpora, manifests, the feature cache, datasets, batching and the built-in corpus."""

from tts_gen.data.corpus import CORPORA, SPLITS, read_metadata, split_ids, standard_split_texts
from tts_gen.data.dataset import LengthBucketSampler, TTSBatch, TTSDataset, collate_tts, pad_sequences
from tts_gen.data.features import FeatureStore, MelStats, feature_key
from tts_gen.data.manifest import PreparedInfo, Utterance, read_manifest, read_prepared_info, write_manifest

__all__ = [
    "CORPORA",
    "SPLITS",
    "FeatureStore",
    "LengthBucketSampler",
    "MelStats",
    "PreparedInfo",
    "TTSBatch",
    "TTSDataset",
    "Utterance",
    "collate_tts",
    "feature_key",
    "pad_sequences",
    "read_manifest",
    "read_metadata",
    "read_prepared_info",
    "split_ids",
    "standard_split_texts",
    "write_manifest",
]
