"""The limits of the HTTP server (kept free of heavy imports: the command line reads the defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerLimits:
    """How much the server takes on.

    Attributes:
        concurrency: requests synthesized at the same time (the others wait).
        queue: requests that may wait for a slot; one more is answered 503.
        max_chars: the longest text of a request, in characters.
        max_body_bytes: the largest request body, in bytes.
    """

    concurrency: int = 1
    queue: int = 16
    max_chars: int = 20_000
    max_body_bytes: int = 1 << 20

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.queue < 0:
            raise ValueError(f"need concurrency >= 1 and queue >= 0, got {self.concurrency} and {self.queue}")
        if self.max_chars < 1 or self.max_body_bytes < 1:
            raise ValueError("max_chars and max_body_bytes must be positive")


DEFAULT_LIMITS = ServerLimits()
