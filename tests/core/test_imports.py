"""Import rules (issue 11): the project's own modules are imported at module level; lazy imports are for heavy
third-party libraries only, so ``luxembedder --help`` loads none of them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import luxembedder

SRC = Path(luxembedder.__file__).parent

# own modules that subclass a torch / sentence-transformers class, so importing them imports that library:
# they are imported inside the function that needs them, like the library itself
HEAVY_OWN_MODULES = {"luxembedder.models.onnx_network", "luxembedder.training.distill", "luxembedder.training.sampler"}
HEAVY = ("torch", "transformers", "sentence_transformers", "scipy", "pandas", "pyarrow", "ray", "onnxruntime",
         "datasets", "matplotlib", "sklearn", "faiss")


def _function_level_own_imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if in_function and isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                if child.module.split(".")[0] == "luxembedder":
                    found.append((child.lineno, child.module))
            elif in_function and isinstance(child, ast.Import):
                found.extend((child.lineno, a.name) for a in child.names if a.name.split(".")[0] == "luxembedder")
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def test_own_modules_are_imported_at_module_level() -> None:
    offending = [f"{p.relative_to(SRC.parent)}:{line} {module}"
                 for p in sorted(SRC.rglob("*.py")) for line, module in _function_level_own_imports(p)
                 if module not in HEAVY_OWN_MODULES]
    assert not offending, "import these at module level:\n" + "\n".join(offending)


def test_the_rule_sees_a_function_level_import(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("import os\n\ndef g():\n    from luxembedder.errors import DataError\n    return DataError\n")
    assert _function_level_own_imports(f) == [(4, "luxembedder.errors")]


def test_cli_and_package_import_no_heavy_library() -> None:
    code = ("import sys, luxembedder.cli.main, luxembedder; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
