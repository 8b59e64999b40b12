"""Likelihood and loss terms of a model on held-out utterances.

The model's own training terms (``TTSModel.forward``: encoder prior and duration terms and the decoder's
``"<family>/<term>"`` terms, unweighted) are computed per test utterance with the aligner's durations. Any term
whose name says it is a negative log-likelihood (``nll`` in its last part, e.g. ``flow/nll``, in the units the
family documents: nats per mel bin for the flow) is reported as the family's likelihood; families without an
exact likelihood simply have none.
"""

from __future__ import annotations

import torch

from tts_gen.data.dataset import TTSBatch

LIKELIHOOD_MARKERS = ("nll", "neg_log_likelihood")


def is_likelihood(term: str) -> bool:
    """True for a loss term that is a negative log-likelihood (``flow/nll``, ``vae/nll``...)."""
    last = term.rsplit("/", 1)[-1].lower()
    return any(marker in last for marker in LIKELIHOOD_MARKERS)


@torch.no_grad()
def loss_terms(model: torch.nn.Module, batch: TTSBatch) -> dict[str, float]:
    """Every unweighted training term of ``model`` on ``batch`` (in eval mode), as floats."""
    model.eval()
    return {key: float(value) for key, value in model(batch).terms.items()}


def likelihood_terms(terms: dict[str, float]) -> dict[str, float]:
    """The negative log-likelihood terms among ``terms``."""
    return {key: value for key, value in terms.items() if is_likelihood(key)}
