"""``tts-gen data download ljspeech``: fetch, verify and unpack LJSpeech-1.1.

The download resumes a partial file (HTTP range requests; ``file://`` URLs resume by offset too), shows a
progress bar, verifies the SHA-256 checksum before unpacking and unpacks through a temporary folder, so an
interrupted run never leaves a half-unpacked corpus that looks complete.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from tts_gen.errors import TTSGenError

LJSPEECH_URL = "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2"
LJSPEECH_SHA256 = "be1a30453f28eb8dd26af4101ae40cbf2c50413b1bb21936cbcdc6fae3de8aa5"
LJSPEECH_FOLDER = "LJSpeech-1.1"
CHUNK = 1 << 20


class DownloadError(TTSGenError):
    """The corpus could not be fetched, verified or unpacked; the message says what to do."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _open(url: str, offset: int):
    """Opens ``url`` from byte ``offset``; returns (response, total size or None, whether it resumed)."""
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    response = urllib.request.urlopen(request, timeout=60)
    length = response.headers.get("Content-Length")
    status = getattr(response, "status", None)
    if url.startswith("file:"):
        response.seek(offset)  # file:// ignores Range; the response is a seekable local file
        total = int(length) if length else None
        return response, total, True
    resumed = status == 206
    total = int(length) + (offset if resumed else 0) if length else None
    return response, total, resumed


def fetch(url: str, destination: Path) -> Path:
    """Downloads ``url`` to ``destination``, resuming ``destination.part`` if present."""
    partial = destination.with_name(destination.name + ".part")
    offset = partial.stat().st_size if partial.exists() else 0
    try:
        response, total, resumed = _open(url, offset)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise DownloadError(
            f"cannot download {url}: {getattr(error, 'reason', error)}. Check the network, or download the file "
            f"by other means and pass --url file:///path/to/{destination.name}"
        ) from None
    if not resumed:
        offset = 0
    with response, open(partial, "ab" if offset else "wb") as out:
        bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, desc=destination.name)
        try:
            for block in iter(lambda: response.read(CHUNK), b""):
                out.write(block)
                bar.update(len(block))
        except (urllib.error.URLError, OSError) as error:
            raise DownloadError(f"download of {url} broke off ({error}); run the command again to resume") from None
        finally:
            bar.close()
    partial.replace(destination)
    return destination


def unpack(archive: Path, out_dir: Path) -> None:
    """Unpacks a tar archive into ``out_dir`` through a temporary folder."""
    staging = out_dir / ".unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise DownloadError(f"cannot unpack {archive}: {error}") from None
    for item in staging.iterdir():
        target = out_dir / item.name
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        item.replace(target)
    staging.rmdir()


def download_ljspeech(out_dir: str | Path, url: str = LJSPEECH_URL, sha256: str | None = None) -> Path:
    """Fetches, verifies and unpacks LJSpeech-1.1 into ``out_dir``; returns the corpus folder.

    Args:
        out_dir: where the archive and the unpacked ``LJSpeech-1.1/`` go.
        url: the archive's address (``file://`` works, for mirrors and tests).
        sha256: expected checksum; defaults to the official one for the official URL, and to no check
            (with a warning) for another URL.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = out_dir / LJSPEECH_FOLDER
    if (corpus / "metadata.csv").is_file() and (corpus / "wavs").is_dir():
        print(f"{corpus} is already unpacked; nothing to do")
        return corpus
    expected = sha256 or (LJSPEECH_SHA256 if url == LJSPEECH_URL else None)
    archive = out_dir / Path(urllib.request.url2pathname(url.rsplit("/", 1)[-1])).name
    if not archive.is_file():
        fetch(url, archive)
    if expected is None:
        print(f"warning: no checksum known for {url}; pass --sha256 to verify it")
    else:
        actual = sha256_of(archive)
        if actual != expected:
            archive.rename(archive.with_name(archive.name + ".bad"))
            raise DownloadError(
                f"checksum mismatch for {archive.name}: expected {expected}, got {actual}; "
                "the file was renamed to .bad, run the command again to download it anew"
            )
    unpack(archive, out_dir)
    if not (corpus / "metadata.csv").is_file():
        raise DownloadError(f"{archive.name} did not contain {LJSPEECH_FOLDER}/metadata.csv")
    return corpus
