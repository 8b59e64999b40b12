"""One step-based trainer for every acoustic model family and the vocoder."""
