"""A real server on 127.0.0.1: the OpenAI endpoint (called by the openai client), /tts, limits and every bad
request, streaming, timings, the web page in headless Chromium, and `tts-gen serve` itself."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT
from tests.serve.conftest import free_port, serve_in_thread
from tts_gen.audio.encode import audio_formats
from tts_gen.experiment import load_experiment
from tts_gen.models.decoders.flow import FlowOptions
from tts_gen.serve.limits import ServerLimits

LIMITS = ServerLimits(concurrency=1, queue=8, max_chars=2000, max_body_bytes=8192)
SENTENCES = " ".join(f"This is sentence number {n}, spoken in its turn." for n in range(1, 9))


@pytest.fixture(scope="module")
def server(voices):
    with serve_in_thread(voices, LIMITS) as url:
        yield url


def post(url: str, path: str, payload, **kwargs) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=payload, timeout=120, **kwargs)


def test_health_and_voices(server):
    health = httpx.get(f"{server}/health").json()
    assert health["status"] == "ok" and health["voices"] == ["flow", "released"]
    listed = httpx.get(f"{server}/voices").json()
    by_name = {voice["name"]: voice for voice in listed["voices"]}
    assert by_name["flow"]["vocoder"] == "griffin-lim" and by_name["released"]["vocoder"] == "hifigan"
    configured = load_experiment(ROOT / "egs" / "demo" / "flow.yaml").model.decoder.sampling["temperature"]
    assert configured != FlowOptions().temperature, "the run's own default, not the family's, must be listed"
    assert by_name["flow"]["options"]["temperature"] == {"default": configured, "type": "float"}
    assert {"wav", "flac", "pcm"} <= set(listed["formats"]) and listed["max_chars"] == 2000


@pytest.mark.parametrize("audio_format", audio_formats())
def test_tts_answers_every_format(server, audio_format):
    answer = post(server, "/tts", {"text": "Hello there.", "voice": "released", "response_format": audio_format})
    assert answer.status_code == 200 and answer.headers["x-sample-rate"] == "22050"
    if audio_format == "pcm":
        samples = np.frombuffer(answer.content, "<i2")
        assert samples.size / 22050 == pytest.approx(float(answer.headers["x-audio-seconds"]), abs=1e-3)
    else:
        audio, rate = sf.read(io.BytesIO(answer.content))
        assert rate == 22050 and audio.size > 256


def test_the_openai_client_gets_speech(server):
    from openai import BadRequestError, OpenAI

    client = OpenAI(base_url=f"{server}/v1", api_key="not-needed", max_retries=0)
    speech = client.audio.speech.create(
        model="tts-1", voice="flow", input="Hello from the client.", response_format="wav"
    )
    audio, rate = sf.read(io.BytesIO(speech.content))
    assert rate == 22050 and audio.size > 256
    slow = client.audio.speech.create(
        model="tts-1", voice="flow", input="Hello from the client.", response_format="wav", speed=0.5
    )
    assert sf.read(io.BytesIO(slow.content))[0].size > 1.6 * audio.size
    with pytest.raises(BadRequestError, match="unknown voice 'alloy'"):
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hello.")


def test_concurrent_requests_run_one_at_a_time(server, voices, monkeypatch):
    synthesizer = voices["flow"].synthesizer
    speak, running, most = synthesizer.speak, [0], [0]
    lock = threading.Lock()

    def counted(*args, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return speak(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(synthesizer, "speak", counted)
    texts = [f"Request number {n}. It has two sentences." for n in range(6)]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda text: post(server, "/tts", {"text": text, "voice": "flow"}), texts))
    assert [a.status_code for a in answers] == [200] * 6
    assert most[0] == 1


def test_a_full_queue_answers_503(voices):
    with serve_in_thread(voices, ServerLimits(concurrency=1, queue=0)) as url:
        with httpx.stream("POST", f"{url}/tts", json={"text": SENTENCES, "stream": True}, timeout=60) as held:
            pieces = held.iter_bytes()
            next(pieces)  # the stream holds the only slot until it is read to the end
            refused = post(url, "/tts", {"text": "Hello."})
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            assert "busy" in refused.json()["error"]["message"]
            assert sum(len(piece) for piece in pieces) > 0
        assert post(url, "/tts", {"text": "Hello."}).status_code == 200


BAD_REQUESTS = [
    ("/tts", {"text": ""}, 400, "the text is empty"),
    ("/tts", {"text": "   "}, 400, "the text is empty"),
    ("/tts", {"text": "🙂"}, 400, "nothing to speak"),
    ("/tts", {"text": "Say [[t q]]."}, 400, "'q' is not in the model's phonemes symbol table"),
    ("/tts", {"text": "Hi.", "options": {"steps": 3}}, 400, "the flow decoder has no option steps"),
    ("/tts", {"text": "Hi.", "options": {"temperature": "warm"}}, 400, "option temperature needs a number"),
    ("/tts", {"text": "Hi.", "voice": "nobody"}, 400, "unknown voice 'nobody'; this server has: flow, released"),
    ("/tts", {"text": "x" * 2001}, 413, "the text has 2001 characters; this server takes at most 2000"),
    ("/tts", {"txt": "Hi."}, 422, "unknown field 'txt'"),
    ("/tts", {"text": "Hi.", "length_scale": 0}, 422, "field 'length_scale'"),
    ("/tts", {"text": "Hi.", "response_format": "ogg"}, 422, "field 'response_format'"),
    ("/tts", {"text": "Hi.", "stream": True, "response_format": "flac"}, 400, "flac cannot be streamed"),
    ("/tts", {"text": "Hi.", "stream": True, "alignments": True}, 400, "alignments need the whole text"),
    ("/tts", ["Hi."], 400, "must be a JSON object"),
    ("/v1/audio/speech", {"model": "tts-1", "voice": "flow"}, 422, "lacks the field 'input'"),
    ("/v1/audio/speech", {"model": "tts-1", "input": "Hi.", "speed": 9}, 422, "field 'speed'"),
    ("/v1/audio/speech", {"model": "tts-1", "input": "Hi.", "instructions": "Cheerful."}, 400, "take no instructions"),
    ("/v1/audio/speech", {"model": "tts-1", "input": "Hi.", "stream_format": "sse"}, 400, "stream_format sse"),
]


@pytest.mark.parametrize("path, payload, status, message", BAD_REQUESTS)
def test_bad_requests_get_a_clear_4xx(server, path, payload, status, message):
    answer = post(server, path, payload)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert message in error["message"] and "Traceback" not in answer.text


@pytest.mark.parametrize(
    "method, path, headers, content, status, message",
    [
        ("POST", "/tts", {"content-type": "text/plain"}, b"Hello.", 415, "send the request as JSON"),
        ("POST", "/tts", {}, b"text=Hello", 415, "send the request as JSON"),
        ("POST", "/tts", {"content-type": "application/json"}, b"{not json", 400, "not valid JSON"),
        ("POST", "/tts", {"content-type": "application/json"}, b"x" * 9000, 413, "larger than this server takes"),
        ("GET", "/tts", {}, None, 405, "GET is not allowed on /tts"),
        ("GET", "/nowhere", {}, None, 404, "no route /nowhere"),
    ],
)
def test_malformed_requests_get_a_clear_4xx(server, method, path, headers, content, status, message):
    answer = httpx.request(method, f"{server}{path}", headers=headers, content=content, timeout=60)
    assert answer.status_code == status and message in answer.json()["error"]["message"]


def test_a_chunked_body_too_large_is_refused(server):
    def pieces():
        for _ in range(10):
            yield b" " * 1000

    answer = httpx.post(f"{server}/tts", content=pieces(), headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "larger than" in answer.json()["error"]["message"]


def test_streaming_sends_the_first_audio_before_the_last_sentence_is_made(server, voices, monkeypatch):
    model = voices["flow"].synthesizer.model
    synthesize, first_audio, calls, found = model.synthesize, threading.Event(), [], []

    def after_the_first_audio(*args, **kwargs):
        if calls:  # a later batch waits until the client has audio (or a minute, and the test fails)
            found.append(first_audio.wait(timeout=60))
        calls.append(args[0].shape)
        return synthesize(*args, **kwargs)

    monkeypatch.setattr(model, "synthesize", after_the_first_audio)
    request = {"text": SENTENCES, "voice": "flow", "stream": True, "options": {"temperature": 0}}
    body = b""
    with httpx.stream("POST", f"{server}/tts", json=request, timeout=120) as answer:
        assert answer.status_code == 200 and answer.headers["transfer-encoding"] == "chunked"
        for piece in answer.iter_raw():
            first_audio.set()
            body += piece
    assert found == [True]  # the last sentences were synthesized after the first audio had arrived
    monkeypatch.setattr(model, "synthesize", synthesize)
    streamed, _ = sf.read(io.BytesIO(body), dtype="int16")
    whole = post(server, "/tts", {**request, "stream": False})
    assert np.abs(streamed.astype(int) - sf.read(io.BytesIO(whole.content), dtype="int16")[0]).max() <= 2


def test_tts_answers_timings_as_json(server):
    answer = post(server, "/tts", {"text": "Hello there. [[t ə m ˈɑ t oʊ]] again!", "alignments": True})
    payload = answer.json()
    assert answer.status_code == 200 and payload["voice"] == "flow" and payload["format"] == "wav"
    audio, _ = sf.read(io.BytesIO(base64.b64decode(payload["audio"])))
    assert payload["duration"] == pytest.approx(audio.size / 22050, abs=1e-3)
    words = [w["word"] for w in payload["alignments"]["words"]]
    assert words == ["Hello", "there", "[[t ə m ˈɑ t oʊ]]", "again"]
    assert payload["alignments"]["sentences"][-1]["end"] == pytest.approx(payload["duration"], abs=1e-3)


CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--virtual-time-budget=15000"]  # fmt: skip


def test_the_page_in_headless_chromium(server, tmp_path):
    import matplotlib.image

    page = f"{server}/?text=Hello%20there."
    dom = subprocess.run(
        [*CHROMIUM, f"--user-data-dir={tmp_path / 'dom'}", "--dump-dom", page],
        capture_output=True,
        text=True,
        timeout=90,
    ).stdout
    assert '<form id="speak">' in dom and '<textarea id="text"' in dom
    assert '<option value="flow">flow (flow)</option><option value="released">released (flow)</option>' in dom
    assert '<audio id="player" controls="" src="blob:' in dom and 'data-ready="yes"' in dom
    shot = tmp_path / "page.png"
    subprocess.run(
        [*CHROMIUM, f"--user-data-dir={tmp_path / 'shot'}", "--window-size=900,700", f"--screenshot={shot}", page],
        capture_output=True,
        timeout=90,
    )
    pixels = (matplotlib.image.imread(str(shot))[..., :3] * 255).round().astype(int)  # (700, 900, 3)

    def count(rgb) -> int:
        return int((np.abs(pixels - np.array(rgb)).sum(-1) <= 3).sum())

    assert count((255, 255, 255)) > 50_000  # the form's panel and its text area
    assert count((31, 111, 235)) > 2_000  # the Speak button
    audio_rows = np.nonzero((np.abs(pixels - np.array((241, 243, 244))).sum(-1) <= 3).sum(1) > 600)[0]
    assert audio_rows.size > 20  # the audio player: a bar across the page, below the form


def test_tts_gen_serve_listens_on_loopback(acoustic_run, tmp_path):
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tts_gen.cli",
        "serve",
        "--checkpoint",
        f"voice={acoustic_run}",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, health = time.time() + 120, None
        while time.time() < deadline and health is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.5)
        assert health == {"status": "ok", "voices": ["voice"], "running": 0, "waiting": 0}
        answer = httpx.post(f"http://127.0.0.1:{port}/tts", json={"text": "Hello."}, timeout=60)
        assert answer.status_code == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert f"serving voice on http://127.0.0.1:{port}/" in output and "Traceback" not in output


def test_a_missing_extra_is_named():
    from tts_gen.app_commands import MissingPackageError, require

    require(("fastapi", "uvicorn"), "serve", "tts-gen serve")
    with pytest.raises(MissingPackageError, match=r"tts-gen serve needs no_such_module.*pip install -e '\.\[serve\]'"):
        require(("fastapi", "no_such_module"), "serve", "tts-gen serve")
