"""No module imports from a layer above it (issue 20): the import-linter contracts in pyproject.toml.

The layers, top to bottom: cli; airflow_plugin | bench; orchestration; pipeline; chase | quality;
publish; transform; extract; load | hooks; config | airflow_env; settings | duckdb_lock. The
sandbox (the fake vendors) imports nothing of the product. import-linter (grimp) counts every
import, those inside functions included.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from shinrai.settings import PROJECT_ROOT


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a dev dependency (uv sync)"
    return subprocess.run([exe, "--config", str(config), "--no-cache"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)


def test_no_module_imports_from_a_layer_above_it():
    result = _lint(PROJECT_ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "shinrai layers KEPT" in result.stdout


def test_the_contract_catches_an_upward_import(tmp_path: Path):
    """The same layers over a planted package where the lowest layer imports the highest: broken."""
    pkg = tmp_path / "planted"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "top.py").write_text("")
    (pkg / "bottom.py").write_text("def f():\n    from planted import top\n    return top\n")
    config = tmp_path / "contracts.toml"
    config.write_text('[tool.importlinter]\nroot_package = "planted"\n\n[[tool.importlinter.contracts]]\n'
                      'name = "planted layers"\ntype = "layers"\nlayers = ["planted.top", "planted.bottom"]\n')
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    result = subprocess.run([exe, "--config", str(config), "--no-cache"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env={"PYTHONPATH": str(tmp_path), "PATH": ""})
    assert result.returncode != 0 and "planted layers BROKEN" in result.stdout, result.stdout + result.stderr
