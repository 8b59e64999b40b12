"""Building blocks shared by the encoder and the decoder families."""
