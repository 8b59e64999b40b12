"""`tts-gen vocoder import`: a generator in the layout of the public HiFi-GAN repository becomes a vocoder run
that vocodes exactly as the original does."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import weight_norm

from tts_gen.cli import main
from tts_gen.synthesize import Synthesizer
from tts_gen.vocoders import load_hifigan
from tts_gen.vocoders.imports import HiFiGANImportError, import_hifigan

# the public layout is the old weight norm (weight_g / weight_v), which PyTorch marks deprecated
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.nn.utils.weight_norm.*:FutureWarning")
SLOPE = 0.1
AUDIO = {"sampling_rate": 22050, "n_fft": 1024, "win_size": 1024, "hop_size": 256, "num_mels": 80, "fmin": 0,
         "fmax": 8000, "segment_size": 8192}  # fmt: skip
# V1 and V3 of the paper at a tiny width (the public config.json keys)
CONFIGS = {
    "v1": {"resblock": "1", "upsample_rates": [8, 8, 2, 2], "upsample_kernel_sizes": [16, 16, 4, 4],
           "upsample_initial_channel": 32, "resblock_kernel_sizes": [3, 7, 11],
           "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]]},
    "v3": {"resblock": "2", "upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
           "upsample_initial_channel": 32, "resblock_kernel_sizes": [3, 5, 7],
           "resblock_dilation_sizes": [[1, 2], [2, 6], [3, 12]]},
}  # fmt: skip


def padding(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class ResBlock1(nn.Module):
    """The public repository's ResBlock1: pairs of (dilated, plain) weight-normed convolutions."""

    def __init__(self, channels, kernel, dilations):
        super().__init__()
        self.convs1 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel, 1, dilation=d, padding=padding(kernel, d)))
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel, 1, padding=padding(kernel))) for _ in dilations
        )

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            x = c2(F.leaky_relu(c1(F.leaky_relu(x, SLOPE)), SLOPE)) + x
        return x


class ResBlock2(nn.Module):
    """The public repository's ResBlock2: one weight-normed convolution per dilation."""

    def __init__(self, channels, kernel, dilations):
        super().__init__()
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel, 1, dilation=d, padding=padding(kernel, d)))
            for d in dilations
        )

    def forward(self, x):
        for conv in self.convs:
            x = conv(F.leaky_relu(x, SLOPE)) + x
        return x


class PublicGenerator(nn.Module):
    """The Generator of the public HiFi-GAN repository (models.py), with its parameter names."""

    def __init__(self, h):
        super().__init__()
        self.num_kernels = len(h["resblock_kernel_sizes"])
        initial = h["upsample_initial_channel"]
        self.conv_pre = weight_norm(nn.Conv1d(80, initial, 7, 1, padding=3))
        block = ResBlock1 if h["resblock"] == "1" else ResBlock2
        self.ups = nn.ModuleList(
            weight_norm(nn.ConvTranspose1d(initial // 2**i, initial // 2 ** (i + 1), k, u, padding=(k - u) // 2))
            for i, (u, k) in enumerate(zip(h["upsample_rates"], h["upsample_kernel_sizes"]))
        )
        self.resblocks = nn.ModuleList(
            block(initial // 2 ** (i + 1), k, d)
            for i in range(len(self.ups))
            for k, d in zip(h["resblock_kernel_sizes"], h["resblock_dilation_sizes"])
        )
        self.conv_post = weight_norm(nn.Conv1d(initial // 2 ** len(self.ups), 1, 7, 1, padding=3))

    def forward(self, x):
        x = self.conv_pre(x)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, SLOPE))
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            x = sum(block(x) for block in blocks) / self.num_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))


def public_files(folder, name: str, seed: int = 0):
    """A trained-looking public generator: ``g_<name>`` ({"generator": state dict}) and ``<name>.json``."""
    torch.manual_seed(seed)
    config = {**CONFIGS[name], **AUDIO}
    generator = PublicGenerator(config).eval()
    with torch.no_grad():
        for parameter in generator.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    assert any(key.endswith("weight_g") for key in generator.state_dict())
    torch.save({"generator": generator.state_dict()}, folder / f"g_{name}")
    (folder / f"{name}.json").write_text(json.dumps(config), encoding="utf-8")
    return generator, folder / f"g_{name}", folder / f"{name}.json"


@pytest.mark.parametrize("name", ["v1", "v3"])
def test_an_imported_generator_vocodes_as_the_original(name, tmp_path):
    generator, weights, config = public_files(tmp_path, name)
    assert main(["vocoder", "import", str(weights), "--config", str(config), "--out", str(tmp_path / "run")]) == 0
    vocoder = load_hifigan(tmp_path / "run")
    mel = torch.randn(1, 80, 40, generator=torch.Generator().manual_seed(1)) - 4.0
    with torch.no_grad():
        expected = generator(mel)[0, 0]
    assert torch.allclose(vocoder(mel)[0], expected, atol=1e-5)


def test_an_imported_vocoder_serves_an_acoustic_model(acoustic_run, tmp_path):
    _, weights, config = public_files(tmp_path, "v3")
    run = import_hifigan(weights, config, tmp_path / "v3-run")
    result = Synthesizer.from_checkpoint(acoustic_run, vocoder=run).speak("Hello there.")
    assert result.waveform.numel() == sum(mel.shape[-1] for mel in result.mels) * 256


def test_files_of_another_layout_are_refused(tmp_path):
    _, weights, config = public_files(tmp_path, "v1")
    with pytest.raises(FileExistsError, match="--force"):
        for _ in range(2):
            import_hifigan(weights, config, tmp_path / "run")
    v3 = tmp_path / "v3.json"
    v3.write_text(json.dumps({**CONFIGS["v3"], **AUDIO}), encoding="utf-8")
    with pytest.raises(HiFiGANImportError, match="do not fit"):
        import_hifigan(weights, v3, tmp_path / "other", force=True)
    torch.save({"discriminator": {"x": torch.zeros(1)}}, tmp_path / "d_v1")
    with pytest.raises(HiFiGANImportError, match="holds no HiFi-GAN generator"):
        import_hifigan(tmp_path / "d_v1", config, tmp_path / "third")
    torch.save({"generator": nn.Linear(2, 2)}, tmp_path / "pickled")
    with pytest.raises(HiFiGANImportError, match="tts_gen reads no pickled objects"):
        import_hifigan(tmp_path / "pickled", config, tmp_path / "fourth")
    (tmp_path / "bad.json").write_text(json.dumps({"resblock": "1"}), encoding="utf-8")
    with pytest.raises(HiFiGANImportError, match="lacks 'sampling_rate'"):
        import_hifigan(weights, tmp_path / "bad.json", tmp_path / "fifth")
