"""docs/bi.md runs as written: every code block of the BI guide, from a project root whose
``.shinrai/publish`` holds a real publication of the sandbox marts, while a new publication of the
same marts is being made (as when a nightly publishes under an analyst).

Python blocks run in the project's interpreter; shell blocks in bash with ``uv run`` meaning the
project's environment (its ``bin/`` first on PATH: what ``uv run`` does after ``make sync``); the
Evidence connection file is YAML that Evidence's DuckDB connector accepts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from shinrai.publish import PublishLayout, publish_marts
from shinrai.settings import PROJECT_ROOT

GUIDE = PROJECT_ROOT / "docs" / "bi.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def guide_blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def project_root(sandbox_publication, tmp_path_factory) -> Path:
    """A project root as after ``make sync`` and a nightly: docs/ and .shinrai/publish/."""
    root = tmp_path_factory.mktemp("bi-guide")
    (root / "docs").symlink_to(PROJECT_ROOT / "docs", target_is_directory=True)
    publish_marts(sandbox_publication.home / "warehouse.duckdb", PublishLayout(root / ".shinrai" / "publish"),
                  manifest=sandbox_publication.home / "dbt" / "target" / "manifest.json")
    return root


def test_the_guide_has_runnable_examples_for_python_shell_and_evidence():
    languages = [language for language, _ in guide_blocks()]
    assert languages.count("python") >= 4 and languages.count("sh") >= 4 and "yaml" in languages
    assert set(languages) <= {"python", "sh", "yaml"}, "a block in a language this test cannot run"


def test_every_example_of_the_bi_guide_runs_as_written_while_a_nightly_publishes(project_root, sandbox_publication):
    layout = PublishLayout(project_root / ".shinrai" / "publish")
    stop = threading.Event()
    published: list[str] = []
    errors: list[BaseException] = []

    def nightly() -> None:
        try:
            while not stop.is_set() and len(published) < 20:
                published.append(publish_marts(
                    sandbox_publication.home / "warehouse.duckdb", layout, source_run_id="nightly",
                    manifest=sandbox_publication.home / "dbt" / "target" / "manifest.json").publication_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "SHINRAI_HOME": str(project_root / ".shinrai"),
           "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    env.pop("SHINRAI_PUBLISH_DIR", None)
    publisher = threading.Thread(target=nightly, daemon=True)
    publisher.start()
    ran = 0
    try:
        for language, code in guide_blocks():
            if language == "yaml":
                connection = yaml.safe_load(code)
                assert connection["type"] == "duckdb" and connection["options"]["filename"] == layout.duckdb_file.name
                continue
            if language == "python":
                command = [sys.executable, "-c", code]
            else:
                command = ["bash", "-euo", "pipefail", "-c", re.sub(r"\buv run ", "", code)]
            result = subprocess.run(command, cwd=project_root, env=env, capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, f"this example of docs/bi.md fails:\n{code}\n{result.stderr[-3000:]}"
            assert result.stdout.strip(), f"this example of docs/bi.md prints nothing:\n{code}"
            ran += 1
    finally:
        stop.set()
        publisher.join(timeout=300)
    assert not errors, errors
    assert published, "no publication was made while the examples ran"
    print(f"\n{ran} examples of docs/bi.md ran while {len(published)} publications were made")
