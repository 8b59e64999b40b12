"""gruut's English pronunciation lexicon, loaded once per process into memory.

gruut looks words up in an SQLite table without an index, which costs milliseconds per word; reading the whole
table once (about half a second) makes every later lookup a dictionary access.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from pathlib import Path

# Part-of-speech tags that the lexicon does not list, mapped to the tag whose pronunciation they share
# ("have read" is a past participle and sounds like the past tense).
_ROLE_FALLBACKS = {
    "gruut:VBN": "gruut:VBD",
    "gruut:VBP": "gruut:VB",
    "gruut:VBZ": "gruut:VB",
    "gruut:VBG": "gruut:VB",
    "gruut:NNS": "gruut:NN",
    "gruut:NNP": "gruut:NN",
    "gruut:NNPS": "gruut:NN",
    "gruut:JJR": "gruut:JJ",
    "gruut:JJS": "gruut:JJ",
    "gruut:RBR": "gruut:RB",
    "gruut:RBS": "gruut:RB",
}
LETTER_ROLE = "gruut:letter"
_NON_WORD = re.compile(r"\W")


def english_lang_dir() -> Path:
    """Folder of the gruut-lang-en package (lexicon, g2p and part-of-speech models)."""
    try:
        import gruut_lang_en
    except ImportError as error:
        raise RuntimeError("gruut's English data is missing; install it with: pip install gruut-lang-en") from error
    return Path(gruut_lang_en.get_lang_dir())


class Lexicon:
    """word -> role -> phonemes, with gruut's lookup order: exact role, default role, first pronunciation."""

    def __init__(self, entries: dict[str, dict[str, str]]):
        self._entries = entries

    @classmethod
    def from_database(cls, path: Path) -> Lexicon:
        """Reads gruut's ``lexicon.db`` (table ``word_phonemes``) into memory."""
        if not path.is_file():
            raise RuntimeError(
                f"gruut lexicon not found at {path}; reinstall it with: pip install --force-reinstall gruut-lang-en"
            )
        entries: dict[str, dict[str, str]] = {}
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = connection.execute("SELECT word, role, phonemes FROM word_phonemes ORDER BY id")
            for word, role, phonemes in rows:
                entries.setdefault(word, {}).setdefault(role or "", phonemes)
        finally:
            connection.close()
        return cls(entries)

    def __contains__(self, word: str) -> bool:
        return word in self._entries or word.lower() in self._entries

    def words(self) -> list[str]:
        """Every word the lexicon lists, as written there."""
        return list(self._entries)

    def phoneme_inventory(self) -> set[str]:
        """Every phoneme symbol used by any pronunciation."""
        return {p for roles in self._entries.values() for ph in roles.values() for p in ph.split()}

    def _roles(self, word: str, do_transforms: bool) -> dict[str, str] | None:
        candidates = [word]
        if do_transforms:
            lower = word.lower()
            candidates += [lower, _NON_WORD.sub("", word), _NON_WORD.sub("", lower)]
        for candidate in candidates:
            roles = self._entries.get(candidate)
            if roles:
                return roles
        return None

    def lookup(self, word: str, role: str | None = None, do_transforms: bool = True) -> list[str] | None:
        """Phonemes of ``word`` (gruut's ``lookup_phonemes`` signature), or None when it is not in the lexicon.

        Args:
            word: the word as written.
            role: gruut role such as ``"gruut:VBD"`` (part of speech) or ``"gruut:letter"``.
            do_transforms: also try lowercase and punctuation-free forms of the word.
        """
        roles = self._roles(word, do_transforms)
        if roles is None:
            return None
        for key in (role, _ROLE_FALLBACKS.get(role or ""), ""):
            if key is not None and key in roles:
                return roles[key].split()
        return next(iter(roles.values())).split()


@functools.lru_cache(maxsize=1)
def english_lexicon() -> Lexicon:
    """The process-wide English lexicon (read-only, safe to share with forked workers)."""
    return Lexicon.from_database(english_lang_dir() / "lexicon.db")
