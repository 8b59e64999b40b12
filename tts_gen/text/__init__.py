"""English text frontend: normalization, phonemization (gruut), symbol tables and tokenization."""

from tts_gen.text.describe import describe_text
from tts_gen.text.normalize import normalize_text
from tts_gen.text.phonemize import phonemize
from tts_gen.text.sentences import split_sentences
from tts_gen.text.tokenizer import TextConfig, Tokenizer, UnspeakableTextError
from tts_gen.text.unicode_clean import UnsupportedCharacterWarning

__all__ = [
    "normalize_text",
    "phonemize",
    "split_sentences",
    "TextConfig",
    "Tokenizer",
    "UnspeakableTextError",
    "describe_text",
    "UnsupportedCharacterWarning",
]
