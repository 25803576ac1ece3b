"""The layering rules of DESIGN.md, held by walking every module's syntax tree.

Imports inside functions count as much as those at the top of a module: a rule that only held
at import time would let a cycle or a training import hide in a function body. The rules are
checked by ``violations`` on a mapping of module names to their source, so a self-test can plant
a forbidden import and see it caught.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PHOTO = "tests/data/hands/sign_digit_1_IMG_1119.JPG"
PACKAGES = {"seqrec.features": "features", "seqrec.models": "models", "seqrec.pipelines": "pipelines"}
P = "seqrec.pipelines"
# Modules that only training needs: recognition and batch jobs must never load one.
TRAINING = (f"{P}.training", f"{P}.speech.training", f"{P}.hands.training", f"{P}.recipes")

INFERENCE = (f"{P}.core", f"{P}.speech", f"{P}.hands", f"{P}.batch")

# (the importing modules, the modules they must never import, why)
RULES = [
    (("seqrec.features",), ("seqrec.pipelines", "seqrec.models"), "features meet models only in pipelines"),
    (("seqrec.models",), ("seqrec.pipelines", "seqrec.features"), "models meet features only in pipelines"),
    (
        (f"{P}.core",),
        (f"{P}.speech", f"{P}.hands", f"{P}.training", f"{P}.batch"),
        "the core is shared by all",
    ),
    ((f"{P}.training",), (f"{P}.speech", f"{P}.hands", f"{P}.batch"), "the trainer knows no modality"),
    ((f"{P}.speech",), (f"{P}.hands", f"{P}.batch"), "a modality never imports another"),
    ((f"{P}.hands",), (f"{P}.speech", f"{P}.batch"), "a modality never imports another"),
    (("seqrec",), (f"{P}.cli",), "nothing outside the CLI imports it"),
]


def _within(module: str, prefixes) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def library_sources() -> dict[str, str]:
    """Every module of the three packages, by its installed name."""
    sources = {}
    for package, folder in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            sources[".".join([package, *parts])] = path.read_text(encoding="utf-8")
    return sources


def imported_modules(module: str, source: str, known: set[str]) -> set[str]:
    """The seqrec modules ``module`` imports anywhere in its body (``from X import name`` counts
    as importing X.name when that is a module)."""
    is_package = any(name.startswith(module + ".") for name in known)
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known)
    return {name for name in found if name in known}


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    known = set(sources)
    return {module: imported_modules(module, source, known) - {module} for module, source in sources.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a cycle to break.
    A package's ``__init__`` that re-exports its own modules is no cycle: edges from a package to
    what lies inside it are left out."""
    graph = {m: {t for t in targets if not t.startswith(m + ".")} for m, targets in graph.items()}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def violations(sources: dict[str, str]) -> list[str]:
    """Every import that breaks a rule, and every cycle, as readable lines."""
    graph = import_graph(sources)
    found = []
    for module, targets in sorted(graph.items()):
        for importers, forbidden, why in RULES:
            if not _within(module, importers) or _within(module, forbidden):
                continue
            found += [f"{module} imports {t}: {why}" for t in sorted(targets) if _within(t, forbidden)]
        if not _within(module, TRAINING) and _within(
            module, (f"{P}.speech", f"{P}.hands", f"{P}.batch", f"{P}.core")
        ):
            found += [
                f"{module} imports {t}: inference never imports training"
                for t in targets
                if _within(t, TRAINING)
            ]
    found += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return found


def test_the_library_keeps_its_layering_rules():
    assert violations(library_sources()) == []


@pytest.mark.parametrize(
    ("module", "planted"),
    [
        ("seqrec.features.audio.spectral", "from seqrec.pipelines.core.stage import Stage"),
        (
            "seqrec.pipelines.speech.stages",
            "def later():\n    from seqrec.pipelines.hands import recognizer\n",
        ),
        ("seqrec.pipelines.speech.transcriber", "from seqrec.pipelines.training import trainer"),
        ("seqrec.pipelines.core.stage", "from ..cli import main"),
        ("seqrec.pipelines.core.manifest", "import seqrec.pipelines.core.stage"),
    ],
)
def test_a_planted_forbidden_import_is_caught(module, planted):
    sources = library_sources()
    assert module in sources
    if module == "seqrec.pipelines.core.manifest":
        # A cycle: the stage module imports the manifest one; plant the way back.
        sources["seqrec.pipelines.core.stage"] += "\nfrom seqrec.pipelines.core import manifest\n"
    sources[module] += "\n" + planted + "\n"
    assert violations(sources), f"planting {planted!r} in {module} broke no rule"


def _modules_after(code: str) -> set[str]:
    """The modules loaded once ``code`` has run in a fresh interpreter."""
    script = code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "from seqrec.pipelines import Transcriber\nTranscriber()",
        "from seqrec.pipelines import GestureRecognizer\nGestureRecognizer('sign-digits')",
        "from seqrec.pipelines.batch import job, tasks",
        "from seqrec.pipelines.cli import main\nmain(['transcribe', 'tests/data/3_jackson_0.wav'])",
        f"from seqrec.pipelines.cli import main\nmain(['gestures', {PHOTO!r}])",
    ],
)
def test_inference_loads_no_training_module(code):
    loaded = _modules_after(f"import os\nos.chdir({str(ROOT)!r})\n" + code)
    assert not {m for m in loaded if _within(m, TRAINING)}


@pytest.mark.parametrize("argv", [["--version"], ["transcribe", "--help"], ["train", "--help"], ["models"]])
def test_light_commands_start_without_torch(argv):
    code = f"from seqrec.pipelines.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"
    loaded = _modules_after(code)
    assert not {"torch", "librosa", "cv2", "mediapipe"} & loaded
    if "--version" in argv:  # nothing numeric at all: it prints a version
        assert "numpy" not in loaded


HEAVY = {"torch", "librosa", "scipy", "numba"}


@pytest.mark.parametrize(
    "argv",
    [
        ["transcribe", "tests/data/3_jackson_0.wav"],
        ["gestures", PHOTO, "--model", "sign-digits"],
        ["batch", "transcribe", "--input", "tests/data/samples", "--output", "{tmp}/rows.jsonl", "--quiet"],
        ["evaluate", "tests/data/samples/manifest.jsonl"],
    ],
)
def test_recognising_loads_neither_torch_nor_librosa_nor_scipy(argv, tmp_path):
    """The ONNX runtime and numpy features: a light install (``pip install seqrec``) recognises
    without torch, librosa, scipy or numba, which cost a transcription 2 s of start-up."""
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    code = f"import os\nos.chdir({str(ROOT)!r})\nfrom seqrec.pipelines.cli import main\nmain({argv!r})"
    assert not {m.split(".")[0] for m in _modules_after(code)} & HEAVY


def test_the_torch_runtime_is_still_there_on_request():
    code = "from seqrec.pipelines import Transcriber\nTranscriber(runtime='torch')"
    assert "torch" in _modules_after(code)
