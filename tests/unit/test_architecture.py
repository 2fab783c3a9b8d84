"""The layers hold: the import contracts in pyproject.toml (import-linter), and the size
limits that keep each module readable."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_HOT_FUNCTION_LINES = 60
HOT_PATH = ("services/app", "services/domain", "services/adapters/store", "streams")


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
    assert "0 broken" in done.stdout


def python_files():
    for folder in ("services", "streams"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_no_module_is_over_the_limit():
    long = {str(p.relative_to(ROOT)): n for p in python_files() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_on_the_hot_path_is_over_the_limit():
    long = {}
    for path in python_files():
        relative = str(path.relative_to(ROOT))
        if not relative.startswith(HOT_PATH):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_HOT_FUNCTION_LINES:
                    long[f"{relative}:{node.name}"] = lines
    assert not long, f"functions over {MAX_HOT_FUNCTION_LINES} lines: {long}"
