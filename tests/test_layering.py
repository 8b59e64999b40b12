"""The layering of tts_gen, read from the source with ``ast``: which module may import which.

Each rule names the modules it constrains and the modules they must not import (directly, at import time or
inside a function). Package-level import circles (any import) and module-level circles (imports that run when
a module is imported) are forbidden everywhere.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tts_gen.models.decoders.registry import DECODERS

PACKAGE = ROOT / "tts_gen"
FAMILY_MODULES = {
    f"tts_gen.models.decoders.{entry.decoder_class.__module__.rsplit('.', 1)[1]}" for entry in DECODERS.values()
}


@dataclass(frozen=True)
class Import:
    target: str  # the imported module (a submodule when ``from package import submodule``)
    at_import_time: bool  # False when the import statement sits inside a function


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend(
                    Import(alias.name, not inside) for alias in child.names if alias.name.startswith("tts_gen")
                )
            elif isinstance(child, ast.ImportFrom) and child.module and child.module.startswith("tts_gen"):
                assert child.level == 0, f"{path}: relative imports are not used in tts_gen"
                for alias in child.names:
                    submodule = f"{child.module}.{alias.name}"
                    found.append(Import(submodule if is_module(submodule) else child.module, not inside))
            visit(child, inside)

    visit(tree, False)
    return found


@lru_cache(maxsize=1)
def import_graph() -> dict[str, list[Import]]:
    return {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


RULES = [
    # (what the rule says, modules it constrains, modules they must not import)
    (
        "a decoder family imports neither train/ nor data/, the encoder nor another family",
        tuple(sorted(FAMILY_MODULES)),
        (
            "tts_gen.train",
            "tts_gen.data",
            "tts_gen.models.encoder",
            "tts_gen.models.tts",
            "tts_gen.models.decoders.registry",
            *sorted(FAMILY_MODULES),
        ),
    ),
    (
        "the trainer and the run lifecycle know no model, no family and no vocoder",
        (
            "tts_gen.train.trainer",
            "tts_gen.train.run",
            "tts_gen.train.optim",
            "tts_gen.train.logging",
            "tts_gen.train.distributed",
            "tts_gen.train.state",
            "tts_gen.train.config",
        ),
        ("tts_gen.models", "tts_gen.vocoders", "tts_gen.experiment", "tts_gen.synthesize", "tts_gen.evaluate"),
    ),
    ("no training module imports a decoder family", ("tts_gen.train",), tuple(sorted(FAMILY_MODULES))),
    (
        "text and audio know no model, data, training, vocoder or evaluation",
        ("tts_gen.text", "tts_gen.audio"),
        (
            "tts_gen.models",
            "tts_gen.data",
            "tts_gen.train",
            "tts_gen.vocoders",
            "tts_gen.evaluate",
            "tts_gen.experiment",
            "tts_gen.synthesize",
            "tts_gen.runs",
        ),
    ),
    ("evaluation never imports training", ("tts_gen.evaluate",), ("tts_gen.train",)),
    (
        "a vocoder knows no acoustic model or decoder family",
        ("tts_gen.vocoders",),
        (
            "tts_gen.models.decoders",
            "tts_gen.models.tts",
            "tts_gen.models.encoder",
            "tts_gen.experiment",
            "tts_gen.synthesize",
            "tts_gen.evaluate",
        ),
    ),
    (
        "the server and the exporter sit above synthesis: nothing below them imports them",
        (
            "tts_gen.text",
            "tts_gen.audio",
            "tts_gen.data",
            "tts_gen.models",
            "tts_gen.train",
            "tts_gen.vocoders",
            "tts_gen.evaluate",
            "tts_gen.experiment",
            "tts_gen.synthesize",
            "tts_gen.releases",
            "tts_gen.runs",
        ),
        ("tts_gen.serve", "tts_gen.export", "tts_gen.app_commands", "tts_gen.cli"),
    ),
    (
        "the server and the exporter know no decoder family and no training",
        ("tts_gen.serve", "tts_gen.export"),
        ("tts_gen.train", "tts_gen.evaluate", "tts_gen.models.decoders.registry", *sorted(FAMILY_MODULES)),
    ),
    (
        "the server does not export and the exporter does not serve",
        ("tts_gen.serve",),
        ("tts_gen.export",),
    ),
    (
        "the bottom modules import nothing above them",
        (
            "tts_gen.errors",
            "tts_gen.files",
            "tts_gen.runtime",
            "tts_gen.trainable",
            "tts_gen.runs",
            "tts_gen.releases",
            "tts_gen.config",
            "tts_gen.validation",
        ),
        (
            "tts_gen.text",
            "tts_gen.audio",
            "tts_gen.data",
            "tts_gen.models",
            "tts_gen.train",
            "tts_gen.vocoders",
            "tts_gen.evaluate",
            "tts_gen.experiment",
            "tts_gen.synthesize",
            "tts_gen.cli",
        ),
    ),
]


@pytest.mark.parametrize("rule, constrained, forbidden", RULES, ids=[rule[0] for rule in RULES])
def test_forbidden_imports(rule, constrained, forbidden):
    violations = [
        f"{module} imports {item.target}"
        for module, imports in import_graph().items()
        if within(module, constrained)
        for item in imports
        if within(item.target, forbidden) and item.target != module
    ]
    assert not violations, f"{rule}: " + "; ".join(violations)


def test_the_trainer_names_no_family():
    names = set(DECODERS)
    for module in ("trainer", "run"):
        tree = ast.parse((PACKAGE / "train" / f"{module}.py").read_text(encoding="utf-8"))
        strings = [
            node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
        named = [s for s in strings if s in names or s.split("/")[0] in names]
        assert not named, f"train/{module}.py names a decoder family: {named}"


def node_of(module: str) -> str:
    """A module's package (a top-level module of tts_gen is a node of its own)."""
    is_package = (ROOT.joinpath(*module.split(".")) / "__init__.py").is_file()
    if is_package or module.count(".") == 1:
        return module
    return module.rsplit(".", 1)[0]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(edges):
        if node not in index:
            connect(node)
    return found


def test_no_import_circle_between_packages():
    edges: dict[str, set[str]] = {}
    for module, imports in import_graph().items():
        for item in imports:
            source, target = node_of(module), node_of(item.target)
            # tts_gen/__init__.py only re-exports (lazily) for users: ``from tts_gen import Synthesizer``
            if source != target and source != "tts_gen":
                edges.setdefault(source, set()).add(target)
    assert not cycles(edges), f"import circles between packages: {cycles(edges)}"


def test_no_import_circle_at_import_time():
    edges: dict[str, set[str]] = {}
    for module, imports in import_graph().items():
        edges[module] = {item.target for item in imports if item.at_import_time and item.target != module}
    assert not cycles(edges), f"modules that import each other when imported: {cycles(edges)}"


def test_the_rules_see_the_imports_they_forbid():
    """The walk finds both kinds of imports (a rule that sees nothing would pass vacuously)."""
    graph = import_graph()
    assert Import("tts_gen.models.decoders.base", True) in graph["tts_gen.models.decoders.flow"]
    assert Import("tts_gen.models.decoders.registry", False) in graph["tts_gen.models.decoders.base"]
    assert FAMILY_MODULES >= {"tts_gen.models.decoders.flow", "tts_gen.models.decoders.gan"}
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
