"""A training process of the distributed tests, started by ``torchrun`` (one process, or several with gloo).

``python -m torch.distributed.run --standalone --nproc_per_node N tests/train/ddp_worker.py PREPARED OUT JOBS``
trains each job of the JSON list ``JOBS`` through the run lifecycle of ``tts-gen train`` (``train_run``) and
writes, per rank, ``OUT/<name>/rank<R>.pt``: the model's state dict after training, the first noise tensor the
model drew in training, and the step reached. A job is ``{"name", "kind": "acoustic"|"vocoder", "config",
"overrides", "until_step" (optional), "equal_lengths" (optional: train on that many utterances cut to one
length), "float64" (optional: the model and those utterances in float64)}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch.utils.data import Dataset

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tts_gen.acoustic_run import acoustic_spec  # noqa: E402
from tts_gen.experiment import load_experiment  # noqa: E402
from tts_gen.train import run as run_module  # noqa: E402
from tts_gen.train.trainer import TrainData, Trainer  # noqa: E402
from tts_gen.vocoders.config import load_vocoder_experiment  # noqa: E402
from tts_gen.vocoders.run import vocoder_spec  # noqa: E402


class EqualLengths(Dataset):
    """The first ``count`` items of a TTS dataset cut to the tokens and frames of its shortest ones, so that every
    batch's loss is the mean of its items' and one batch of B equals two batches of B/2 averaged."""

    def __init__(self, dataset, count: int):
        self.items = [
            {**item, "mel": item["mel"].to(torch.get_default_dtype())}
            for item in map(dataset.__getitem__, range(count))
        ]
        self.tokens = min(len(item["tokens"]) for item in self.items)
        self.frames = min(item["mel"].shape[-1] for item in self.items) // 2 * 2  # even: the flow's squeeze
        self.lengths = [self.frames] * count

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        item = self.items[index]
        return {"id": item["id"], "tokens": item["tokens"][: self.tokens], "mel": item["mel"][..., : self.frames]}


class Recorded:
    """The trainers made in this process, and the first tensor drawn by ``torch.randn``/``randn_like`` while one
    of them trains."""

    trainers: list[Trainer] = []
    first_noise: torch.Tensor | None = None
    training = False


class RecordingTrainer(Trainer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        Recorded.trainers.append(self)

    def train_step(self, batch):
        Recorded.training = True
        try:
            return super().train_step(batch)
        finally:
            Recorded.training = False


def recording(draw):
    def wrapped(*args, **kwargs):
        tensor = draw(*args, **kwargs)
        if Recorded.training and Recorded.first_noise is None:
            Recorded.first_noise = tensor.detach().clone()
        return tensor

    return wrapped


def spec_of(job: dict, prepared: Path):
    config_path = ROOT / job["config"]
    if job["kind"] == "vocoder":
        return vocoder_spec(load_vocoder_experiment(config_path, job["overrides"]), prepared)
    spec = acoustic_spec(load_experiment(config_path, job["overrides"]), prepared)
    if job.get("equal_lengths"):
        train = EqualLengths(spec.data.train, job["equal_lengths"])
        val = EqualLengths(spec.data.val, 1)
        spec.data = TrainData(train, val, spec.data.collate, train.lengths, val.lengths)
    return spec


def main(prepared: str, out: str, jobs: str) -> None:
    run_module.Trainer = RecordingTrainer
    torch.randn, torch.randn_like = recording(torch.randn), recording(torch.randn_like)
    for job in json.loads(jobs):
        torch.set_default_dtype(torch.float64 if job.get("float64") else torch.float32)
        Recorded.first_noise = None
        folder = Path(out) / job["name"]
        position = run_module.train_run(spec_of(job, Path(prepared)), folder / "run", "cpu", job.get("until_step"))
        trainer = Recorded.trainers[-1]
        result = {"state": trainer.model.state_dict(), "noise": Recorded.first_noise, "step": position.step}
        torch.save(result, folder / f"rank{trainer.context.rank}.pt")


if __name__ == "__main__":
    main(*sys.argv[1:])
