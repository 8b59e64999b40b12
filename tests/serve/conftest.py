"""Voices for the server tests (a tiny run, and its safetensors release with a vocoder), and a real uvicorn server
on 127.0.0.1 in a thread of the test process."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve_in_thread(voices, limits):
    """Serves ``voices`` with uvicorn on 127.0.0.1 until the block ends; yields the base URL."""
    import uvicorn

    from tts_gen.serve.app import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(voices, limits), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        assert time.time() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="package")
def voices(acoustic_run, vocoder_run, tmp_path_factory):
    """Two voices: the tiny flow run (Griffin-Lim) and its safetensors release with the tiny HiFi-GAN."""
    from tts_gen.export.bundle import export_release
    from tts_gen.serve.voices import load_voices

    release = tmp_path_factory.mktemp("serve") / "released"
    export_release(acoustic_run, release, vocoder_run)
    return load_voices([str(acoustic_run), str(release)])
