"""``tts-gen serve``: trained voices over HTTP (FastAPI + uvicorn), with an OpenAI-compatible speech endpoint.

Nothing is imported here, so that the command line's help stays fast.
"""
