"""Mel decoders of each generative family, all behind the interface of :mod:`.base`."""
