"""The HTTP server: FastAPI routes over the loaded voices, run by uvicorn.

Routes:

* ``POST /v1/audio/speech``: the OpenAI speech API (``model``, ``input``, ``voice``, ``response_format``
  wav|pcm|flac|mp3, ``speed`` 0.25-4); ``stream: true`` sends the audio sentence by sentence (chunked transfer).
* ``POST /tts``: ``text``, ``voice``, the family's ``options``, ``length_scale``, ``sentence_silence``,
  ``response_format``, ``stream``; ``alignments: true`` answers JSON with the audio (base64) and the start and
  end of every sentence, word and phoneme.
* ``GET /voices``, ``GET /health``, and ``GET /`` a page to type a text, pick a voice and listen.

Every bad request is answered 4xx with ``{"error": {"message", "type", "param"}}`` (the OpenAI error shape); the
server never sends a traceback. Requests run at most ``concurrency`` at a time, at most ``queue`` wait, and the
rest get 503.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from tts_gen.audio.encode import MEDIA_TYPES, STREAMABLE, audio_formats, encode_audio, pcm16, wav_header
from tts_gen.errors import USER_ERRORS
from tts_gen.serve.limits import ServerLimits
from tts_gen.serve.voices import Voice, load_voices

log = logging.getLogger("tts_gen.serve")
AudioFormat = Literal["wav", "pcm", "flac", "mp3"]


class RequestError(Exception):
    """A request the server refuses: an HTTP status and a message for the client."""

    def __init__(self, status: int, message: str, param: str | None = None, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.kind = status, message, param, kind


def error_response(error: RequestError) -> JSONResponse:
    body = {"error": {"message": error.message, "type": error.kind, "param": error.param, "code": error.status}}
    headers = {"Retry-After": "1"} if error.status == 503 else None
    return JSONResponse(body, status_code=error.status, headers=headers)


# ----------------------------------------------------------------------------------------------- requests


class SpeechRequest(BaseModel):
    """``POST /v1/audio/speech``, as the OpenAI API defines it (``stream`` is tts_gen's)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    input: str
    voice: str | None = None
    response_format: AudioFormat | None = None
    speed: float = Field(1.0, ge=0.25, le=4.0)
    instructions: str | None = None
    stream_format: Literal["audio", "sse"] | None = None
    stream: bool = False


class TTSRequest(BaseModel):
    """``POST /tts``: the text, a voice and the family's own sampling options."""

    model_config = ConfigDict(extra="forbid")

    text: str
    voice: str | None = None
    options: dict[str, str | bool | int | float] = Field(default_factory=dict)
    length_scale: float = Field(1.0, gt=0.0, le=10.0)
    sentence_silence: float = Field(0.25, ge=0.0, le=10.0)
    response_format: AudioFormat = "wav"
    stream: bool = False
    alignments: bool = False


def _validation_message(error: ValidationError) -> tuple[str, str | None]:
    """One sentence for the client: an unknown field first (often a misspelt one), then a missing one."""
    errors = sorted(error.errors(), key=lambda e: {"extra_forbidden": 0, "missing": 1}.get(e["type"], 2))
    first = errors[0]
    location = ".".join(str(part) for part in first["loc"]) or None
    if first["type"] == "extra_forbidden":
        missing = [".".join(map(str, e["loc"])) for e in errors if e["type"] == "missing"]
        also = f" (and it lacks {', '.join(repr(m) for m in missing)})" if missing else ""
        return f"unknown field {location!r} in the request{also}", location
    if first["type"] == "missing":
        return f"the request lacks the field {location!r}", location
    return f"field {location!r}: {first['msg']} (got {first.get('input')!r})", location


async def parse_body(request: Request, model: type[BaseModel]) -> Any:
    """The JSON body of ``request`` as ``model``; wrong content type 415, bad JSON 400, bad fields 422."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise RequestError(
            415, f"send the request as JSON (Content-Type: application/json), not {content_type or 'no type'!r}"
        )
    try:
        payload = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestError(400, f"the body is not valid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise RequestError(400, "the body must be a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        message, param = _validation_message(error)
        raise RequestError(422, message, param) from None


# ----------------------------------------------------------------------------------------------- admission


class Admission:
    """At most ``concurrency`` requests synthesize at a time and at most ``queue`` wait; more are refused."""

    def __init__(self, limits: ServerLimits):
        self.limits = limits
        self.slots = asyncio.Semaphore(limits.concurrency)
        self.pending = 0  # running + waiting
        self.running = 0

    async def enter(self) -> None:
        if self.pending >= self.limits.concurrency + self.limits.queue:
            raise RequestError(503, "the server is busy; try again shortly", kind="server_busy")
        self.pending += 1
        try:
            await self.slots.acquire()
        except BaseException:
            self.pending -= 1
            raise
        self.running += 1

    def leave(self) -> None:
        self.running -= 1
        self.pending -= 1
        self.slots.release()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.enter()
        try:
            yield
        finally:
            self.leave()


# ----------------------------------------------------------------------------------------------- the job


@dataclass
class Job:
    """One synthesis: the voice, the text and how to say it."""

    voice: Voice
    text: str
    options: dict[str, Any]
    length_scale: float
    sentence_silence: float
    audio_format: str
    stream: bool
    alignments: bool = False


@dataclass
class Server:
    """The voices, the limits and the admission control of one app."""

    voices: dict[str, Voice]
    limits: ServerLimits
    admission: Admission

    def voice(self, name: str | None) -> Voice:
        if name is None or name == "":
            return next(iter(self.voices.values()))
        if name not in self.voices:
            raise RequestError(400, f"unknown voice {name!r}; this server has: {', '.join(self.voices)}", "voice")
        return self.voices[name]

    def check_text(self, text: str, param: str) -> str:
        if not text.strip():
            raise RequestError(400, "the text is empty; give something to say", param)
        if len(text) > self.limits.max_chars:
            raise RequestError(
                413, f"the text has {len(text)} characters; this server takes at most {self.limits.max_chars}", param
            )
        return text

    @staticmethod
    def check_format(audio_format: str, stream: bool) -> None:
        if audio_format not in audio_formats():
            raise RequestError(
                400,
                f"this server cannot write {audio_format}; choose one of: {', '.join(audio_formats())}",
                "response_format",
            )
        if stream and audio_format not in STREAMABLE:
            raise RequestError(400, f"{audio_format} cannot be streamed; stream wav or pcm", "response_format")

    async def run(self, job: Job) -> Response:
        """Synthesizes ``job`` within the admission limits: a whole file, a stream or JSON with timings."""
        synthesizer = job.voice.synthesizer
        await self.admission.enter()
        try:
            if job.stream:
                chunks = await run_in_threadpool(
                    synthesizer.stream, job.text, job.length_scale, job.sentence_silence, **job.options
                )
            else:
                result = await run_in_threadpool(
                    synthesizer.speak, job.text, job.length_scale, job.sentence_silence, **job.options
                )
        except USER_ERRORS as error:
            self.admission.leave()
            raise RequestError(400, str(error).strip().splitlines()[0]) from None
        except BaseException:
            self.admission.leave()
            raise
        headers = {"X-Sample-Rate": str(synthesizer.sample_rate), "X-Voice": job.voice.name}
        if job.stream:
            return StreamingResponse(
                self._stream_body(chunks, synthesizer.sample_rate, job.audio_format),
                media_type=MEDIA_TYPES[job.audio_format],
                headers=headers,
            )
        try:
            audio = await run_in_threadpool(encode_audio, result.waveform, result.sample_rate, job.audio_format)
        finally:
            self.admission.leave()
        headers["X-Audio-Seconds"] = f"{result.waveform.numel() / result.sample_rate:.3f}"
        if not job.alignments:
            return Response(audio, media_type=MEDIA_TYPES[job.audio_format], headers=headers)
        return JSONResponse(
            {
                "voice": job.voice.name,
                "sample_rate": result.sample_rate,
                "duration": round(result.waveform.numel() / result.sample_rate, 4),
                "format": job.audio_format,
                "audio": base64.b64encode(audio).decode("ascii"),
                "alignments": result.alignments(),
            },
            headers=headers,
        )

    async def _stream_body(self, chunks, sample_rate: int, audio_format: str) -> AsyncIterator[bytes]:
        """WAV (a header of unknown length, then PCM) or PCM, piece by piece; the slot is freed at the end or
        when the client goes away."""
        try:
            if audio_format == "wav":
                yield wav_header(sample_rate)
            async for chunk in iterate_in_threadpool(chunks):
                yield pcm16(chunk.samples)
        finally:
            self.admission.leave()


# ----------------------------------------------------------------------------------------------- the app


class BodyLimit:
    """ASGI middleware: request bodies larger than ``max_bytes`` are answered 413 before any route reads them."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = RequestError(413, f"the request body is larger than this server takes ({self.max_bytes} bytes)")
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(too_large)(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await error_response(too_large)(scope, receive, send)
                return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _page() -> str:
    return resources.files("tts_gen.serve").joinpath("page.html").read_text(encoding="utf-8")


def create_app(voices: dict[str, Voice], limits: ServerLimits = ServerLimits()) -> FastAPI:
    """The FastAPI app serving ``voices`` (at least one) within ``limits``."""
    if not voices:
        raise ValueError("a server needs at least one voice")
    server = Server(voices, limits, Admission(limits))
    app = FastAPI(title="tts_gen", summary="Speech from trained tts_gen voices", docs_url="/docs", redoc_url=None)
    app.state.server = server

    @app.exception_handler(RequestError)
    async def refused(request: Request, error: RequestError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        message = {404: f"no route {request.url.path}", 405: f"{request.method} is not allowed on {request.url.path}"}
        return error_response(RequestError(error.status_code, message.get(error.status_code, str(error.detail))))

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> JSONResponse:
        log.exception("synthesis failed")
        return error_response(RequestError(500, f"synthesis failed: {type(error).__name__}", kind="server_error"))

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return _page()

    @app.get("/health")
    async def health() -> dict[str, Any]:
        admission = server.admission
        return {
            "status": "ok",
            "voices": list(server.voices),
            "running": admission.running,
            "waiting": admission.pending - admission.running,
        }

    @app.get("/voices")
    async def list_voices() -> dict[str, Any]:
        return {
            "voices": [voice.describe() for voice in server.voices.values()],
            "formats": list(audio_formats()),
            "max_chars": limits.max_chars,
        }

    @app.post("/v1/audio/speech")
    async def speech(request: Request) -> Response:
        body: SpeechRequest = await parse_body(request, SpeechRequest)
        if body.instructions:
            raise RequestError(400, "this server's voices take no instructions; leave the field out", "instructions")
        if body.stream_format == "sse":
            raise RequestError(400, "stream_format sse is not offered; use audio", "stream_format")
        audio_format = body.response_format or ("mp3" if "mp3" in audio_formats() else "wav")
        server.check_format(audio_format, body.stream)
        job = Job(
            server.voice(body.voice),
            server.check_text(body.input, "input"),
            {},
            1.0 / body.speed,
            0.25,
            audio_format,
            body.stream,
        )
        return await server.run(job)

    @app.post("/tts")
    async def tts(request: Request) -> Response:
        body: TTSRequest = await parse_body(request, TTSRequest)
        voice = server.voice(body.voice)
        server.check_format(body.response_format, body.stream)
        if body.stream and body.alignments:
            raise RequestError(400, "alignments need the whole text; ask without stream", "alignments")
        try:
            voice.synthesizer.options(**body.options)
        except (ValueError, TypeError) as error:
            raise RequestError(400, str(error), "options") from None
        job = Job(
            voice,
            server.check_text(body.text, "text"),
            body.options,
            body.length_scale,
            body.sentence_silence,
            body.response_format,
            body.stream,
            body.alignments,
        )
        return await server.run(job)

    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    return app


@dataclass
class ServerConfig:
    """What ``tts-gen serve`` starts: the voices (``PATH`` or ``NAME=PATH``), their vocoder, the address and the
    limits."""

    checkpoints: list[str]
    vocoder: str | None = None
    device: str = "cpu"
    host: str = "127.0.0.1"
    port: int = 5002
    concurrency: int = 1
    queue: int = 16
    max_chars: int = 20_000
    max_body_bytes: int = 1 << 20
    lexicon: str | None = None


def run_server(config: ServerConfig) -> None:
    """Loads the voices once, then serves until interrupted."""
    import uvicorn

    limits = ServerLimits(config.concurrency, config.queue, config.max_chars, config.max_body_bytes)
    voices = load_voices(config.checkpoints, config.vocoder, config.device, config.lexicon)
    app = create_app(voices, limits)
    print(f"serving {', '.join(voices)} on http://{config.host}:{config.port}/ (Ctrl-C stops)")
    uvicorn.run(app, host=config.host, port=config.port, log_level="info")
