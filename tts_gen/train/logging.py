"""Training logs: TensorBoard (every loss term, gradient norms, learning rate, mel plots, audio) and a
``metrics.jsonl`` file that reports and comparisons read without TensorBoard."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tts_gen.trainable import Sample


def plot_mels(mels: dict[str, torch.Tensor]):
    """A matplotlib figure with one log-mel (n_mels, T) panel per entry, titled by its key."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(mels), 1, figsize=(10, 2.6 * len(mels)), squeeze=False)
    for axis, (title, mel) in zip(axes[:, 0], mels.items()):
        image = axis.imshow(mel.detach().float().cpu().numpy(), origin="lower", aspect="auto", interpolation="none")
        axis.set_title(title)
        axis.set_ylabel("mel bin")
        figure.colorbar(image, ax=axis)
    axes[-1, 0].set_xlabel("frame")
    figure.tight_layout()
    return figure


class TrainLogger:
    """Writes scalars to TensorBoard and ``metrics.jsonl``; samples to TensorBoard. Main rank only."""

    def __init__(self, run_dir: Path, enabled: bool = True):
        self.enabled = enabled
        self.metrics_path = run_dir / "metrics.jsonl"
        self.writer = None
        if enabled:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir / "tb"))

    def scalars(self, prefix: str, values: dict[str, float], step: int) -> None:
        if not self.enabled:
            return
        for key, value in values.items():
            self.writer.add_scalar(f"{prefix}/{key}", value, step)
        with open(self.metrics_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"split": prefix, "step": step, **values}) + "\n")

    def sample(self, sample: Sample, audio: torch.Tensor, sample_rate: int, step: int) -> None:
        if not self.enabled:
            return
        import matplotlib.pyplot as plt

        figure = plot_mels({"generated": sample.predicted_mel, "recording": sample.target_mel})
        self.writer.add_figure("val/mel", figure, step)
        plt.close(figure)
        self.writer.add_audio("val/audio", audio.detach().float().cpu().clamp(-1, 1), step, sample_rate)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()
