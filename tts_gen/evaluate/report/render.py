"""Report blocks and their two renderings: Markdown (files beside it) and self-contained HTML (data URIs)."""

from __future__ import annotations

import base64
import html
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Paragraph:
    text: str


@dataclass
class Cell:
    text: str
    bold: bool = False


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass
class Image:
    """A PNG file inside the report folder."""

    path: Path
    caption: str


@dataclass
class Audio:
    """A WAV file anywhere; the Markdown links a copy inside the report folder, the HTML embeds it."""

    path: Path
    label: str


@dataclass
class AudioTable:
    header: list[str]
    rows: list[list[Cell | Audio | None]]


@dataclass
class Code:
    text: str


@dataclass
class Document:
    title: str
    blocks: list = field(default_factory=list)

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)


# ---------------------------------------------------------------------------------------------- Markdown


def _md_cell(cell: Cell | Audio | None, out_dir: Path) -> str:
    if cell is None:
        return "—"
    if isinstance(cell, Audio):
        return f"[{cell.label}]({_copy_audio(cell, out_dir)})"
    text = cell.text.replace("|", "\\|")
    return f"**{text}**" if cell.bold and text else text


def _copy_audio(audio: Audio, out_dir: Path) -> str:
    """Copies a WAV into ``out_dir/audio`` under a name made from its label; returns the relative path."""
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in audio.label) + ".wav"
    target = out_dir / "audio" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(audio.path, target)
    return f"audio/{name}"


def to_markdown(document: Document, out_dir: Path) -> str:
    lines = [f"# {document.title}", ""]
    for block in document.blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, (Table, AudioTable)):
            if getattr(block, "caption", ""):
                lines += [block.caption, ""]
            lines.append("| " + " | ".join(block.header) + " |")
            lines.append("|" + "---|" * len(block.header))
            lines += ["| " + " | ".join(_md_cell(c, out_dir) for c in row) + " |" for row in block.rows]
            lines.append("")
        elif isinstance(block, Image):
            lines += [f"![{block.caption}]({block.path.relative_to(out_dir).as_posix()})", "", f"*{block.caption}*", ""]
        elif isinstance(block, Code):
            lines += ["```", block.text, "```", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- HTML

STYLE = """
body { font-family: sans-serif; max-width: 1200px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; }
img { max-width: 100%; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
audio { width: 220px; }
"""


def data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _html_cell(cell: Cell | Audio | None) -> str:
    if cell is None:
        return "<td>—</td>"
    if isinstance(cell, Audio):
        uri = data_uri(cell.path, "audio/wav")
        return f'<td><audio controls preload="auto" src="{uri}" title="{html.escape(cell.label)}"></audio></td>'
    text = html.escape(cell.text)
    return f"<td><b>{text}</b></td>" if cell.bold and text else f"<td>{text}</td>"


def _inline(text: str) -> str:
    """Escapes text and renders **bold** and `code` spans."""
    parts = html.escape(text).split("**")
    text = "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))
    parts = text.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def to_html(document: Document) -> str:
    body = [f"<h1>{html.escape(document.title)}</h1>"]
    for block in document.blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, (Table, AudioTable)):
            caption = f"<caption>{html.escape(block.caption)}</caption>" if getattr(block, "caption", "") else ""
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
            rows = "".join("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in block.rows)
            body.append(f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(block, Image):
            uri = data_uri(block.path, "image/png")
            caption = html.escape(block.caption)
            body.append(f'<figure><img src="{uri}" alt="{caption}"><figcaption>{caption}</figcaption></figure>')
        elif isinstance(block, Code):
            body.append(f"<pre>{html.escape(block.text)}</pre>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(document.title)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
