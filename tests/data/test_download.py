"""``tts-gen data download``: resume, checksum, unpack, offline failure."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from tts_gen.cli import main
from tts_gen.data.download import DownloadError, download_ljspeech


def make_archive(path, size=200_000):
    """A small LJSpeech-1.1 tarball with incompressible content so that it has many bytes to resume."""
    import os

    with tarfile.open(path, "w:bz2") as tar:
        for name, data in (("LJSpeech-1.1/metadata.csv", b"LJ001-0001|hi|hi\n"), ("LJSpeech-1.1/wavs/noise.bin", os.urandom(size))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_verifies_and_unpacks(tmp_path):
    archive = tmp_path / "mirror" / "LJSpeech-1.1.tar.bz2"
    archive.parent.mkdir()
    digest = make_archive(archive)
    corpus = download_ljspeech(tmp_path / "out", url=archive.as_uri(), sha256=digest)
    assert (corpus / "metadata.csv").read_text().startswith("LJ001-0001")
    assert download_ljspeech(tmp_path / "out", url=archive.as_uri(), sha256=digest) == corpus  # already there


def test_download_resumes_a_partial_file(tmp_path):
    archive = tmp_path / "mirror" / "LJSpeech-1.1.tar.bz2"
    archive.parent.mkdir()
    digest = make_archive(archive)
    out = tmp_path / "out"
    out.mkdir()
    data = archive.read_bytes()
    (out / "LJSpeech-1.1.tar.bz2.part").write_bytes(data[: len(data) // 2])
    corpus = download_ljspeech(out, url=archive.as_uri(), sha256=digest)
    assert (out / "LJSpeech-1.1.tar.bz2").read_bytes() == data
    assert (corpus / "wavs" / "noise.bin").is_file()


def test_checksum_mismatch_is_an_error(tmp_path):
    archive = tmp_path / "LJSpeech-1.1.tar.bz2"
    make_archive(archive)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download_ljspeech(tmp_path / "out", url=archive.as_uri(), sha256="0" * 64)
    assert (tmp_path / "out" / "LJSpeech-1.1.tar.bz2.bad").is_file()


def test_offline_download_fails_with_one_line(tmp_path, capsys):
    code = main(["data", "download", "ljspeech", "--out", str(tmp_path), "--url", "http://127.0.0.1:9/LJSpeech-1.1.tar.bz2"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "cannot download" in err and len(err.splitlines()) == 1
