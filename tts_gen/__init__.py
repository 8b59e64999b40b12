"""tts_gen: a text-to-speech toolkit whose mel decoder families are interchangeable.

Every generative family of mel decoder (autoregressive, normalizing flow, VAE, diffusion, GAN and flow
matching) sits behind one text encoder, one aligner and one vocoder, so that comparing families compares
only how each one turns noise into speech.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "Synthesizer":
        from tts_gen.synthesize import Synthesizer

        return Synthesizer
    raise AttributeError(name)
