"""The acoustic model: shared text encoder, aligner, and one decoder of a generative family."""
