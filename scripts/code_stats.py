"""Lines of library code and the longest functions, at the working tree or at a git revision.

    python scripts/code_stats.py [--rev REV] [--top 10]
    python scripts/code_stats.py --tree        # each module and the first line of its docstring

Library code is what installs: features/, models/ and pipelines/ (Python files). Lines count
every line of those files; a function's length runs from its ``def`` (decorators included) to
its last line. Prints JSON.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ("features", "models", "pipelines")


def library_files(rev: str | None) -> dict[str, str]:
    """Path -> source of every library Python file, from the tree or from ``rev``."""
    if rev is None:
        return {
            str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
            for folder in LIBRARY
            for path in sorted((ROOT / folder).rglob("*.py"))
        }
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev, *LIBRARY],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return {
        name: subprocess.run(
            ["git", "show", f"{rev}:{name}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        for name in listing
        if name.endswith(".py")
    }


def function_lengths(path: str, source: str) -> list[tuple[int, str]]:
    lengths = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lengths.append((node.end_lineno - first + 1, f"{path}:{node.lineno} {node.name}"))
    return lengths


def module_tree(files: dict[str, str]) -> str:
    """One line per module: its path and what its docstring says first."""
    lines = []
    for path, source in sorted(files.items()):
        docstring = ast.get_docstring(ast.parse(source)) or ""
        lines.append(f"{path:<44} {docstring.split(chr(10))[0] if docstring else '(no docstring)'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rev", help="a git revision (default: the working tree)")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--tree", action="store_true", help="list the modules instead")
    args = parser.parse_args()
    files = library_files(args.rev)
    if args.tree:
        print(module_tree(files))
        return 0
    lengths = sorted(
        (f for path, source in files.items() for f in function_lengths(path, source)), reverse=True
    )
    result = {
        "revision": args.rev or "working tree",
        "files": len(files),
        "lines": sum(source.count("\n") for source in files.values()),
        "functions_over_60_lines": sum(length > 60 for length, _ in lengths),
        "longest": [{"lines": length, "function": where} for length, where in lengths[: args.top]],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
