"""The decoder families: name -> (config class, decoder class).

Adding a family is one module in this folder, one line here and one YAML per folder in ``egs/``; the contract
tests run over this table, so a new family is tested automatically.
"""

from __future__ import annotations

from typing import NamedTuple

from tts_gen.models.decoders.ar import ARDecoder, ARDecoderConfig
from tts_gen.models.decoders.base import Decoder, DecoderConfig
from tts_gen.models.decoders.diffusion import DiffusionDecoder, DiffusionDecoderConfig
from tts_gen.models.decoders.flow import FlowDecoder, FlowDecoderConfig
from tts_gen.models.decoders.flow_matching import FlowMatchingDecoder, FlowMatchingDecoderConfig
from tts_gen.models.decoders.gan import GANDecoder, GANDecoderConfig
from tts_gen.models.decoders.prior import PriorDecoder, PriorDecoderConfig
from tts_gen.models.decoders.vae import VAEDecoder, VAEDecoderConfig


class DecoderEntry(NamedTuple):
    config_class: type[DecoderConfig]
    decoder_class: type[Decoder]


DECODERS: dict[str, DecoderEntry] = {
    "ar": DecoderEntry(ARDecoderConfig, ARDecoder),
    "diffusion": DecoderEntry(DiffusionDecoderConfig, DiffusionDecoder),
    "flow": DecoderEntry(FlowDecoderConfig, FlowDecoder),
    "flow_matching": DecoderEntry(FlowMatchingDecoderConfig, FlowMatchingDecoder),
    "gan": DecoderEntry(GANDecoderConfig, GANDecoder),
    "prior": DecoderEntry(PriorDecoderConfig, PriorDecoder),
    "vae": DecoderEntry(VAEDecoderConfig, VAEDecoder),
}


def decoder_entry(family: str) -> DecoderEntry:
    """The registered family ``family``; an unknown name is a ValueError that lists the choices."""
    if family not in DECODERS:
        raise ValueError(f"unknown decoder family {family!r}; choose one of: {', '.join(DECODERS)}")
    return DECODERS[family]


def build_decoder(config: DecoderConfig, n_mels: int) -> Decoder:
    """Instantiates the decoder of ``config.family``."""
    entry = decoder_entry(config.family)
    if not isinstance(config, entry.config_class):
        raise TypeError(f"config of type {type(config).__name__} given for family {config.family!r}")
    return entry.decoder_class(config, n_mels)
