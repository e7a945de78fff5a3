"""Every entry point validates the configuration before it reads a source or writes a file: the
``shinrai`` commands (one line on stderr, exit code 2, no traceback), the nightly DAG's ``plan``
task (fails without retries) and each pipeline step its tasks call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shinrai import config
from shinrai.settings import PROJECT_ROOT

MISTAKE = "config quallity: is not a known key (did you mean 'quality'?)"


@pytest.fixture
def misspelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SHINRAI_CONFIG: the shipped file with its ``quality:`` section misspelled; SHINRAI_HOME
    not created yet, so anything written shows."""
    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    tree["quallity"] = tree.pop("quality")
    path = tmp_path / "shinrai.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("SHINRAI_CONFIG", str(path))
    monkeypatch.setenv("SHINRAI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SHINRAI_PUBLISH_DIR", str(tmp_path / "publish"))
    return path


def _shinrai(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("shinrai")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, check=False, timeout=120)


def test_a_command_with_a_bad_config_says_one_line_and_touches_nothing(misspelled: Path, tmp_path: Path):
    proc = _shinrai("publish", "--no-docs")
    assert proc.returncode == 2
    assert proc.stderr == f"shinrai: {MISTAKE}\n"
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "home").exists() and not (tmp_path / "publish").exists()


def test_config_check_lists_every_mistake_or_says_ok(misspelled: Path):
    tree = yaml.safe_load(misspelled.read_text(encoding="utf-8"))
    tree["jira"]["page_size"] = 0
    misspelled.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    proc = _shinrai("config", "check")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"shinrai: {MISTAKE}",
        "shinrai: config jira.page_size: must be a whole number from 1 to 5000 (the search/jql ceiling), got 0",
    ]
    shipped = PROJECT_ROOT / "config" / "shinrai.yaml"
    proc = _shinrai("config", "check", str(shipped))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"config OK: {shipped}\n", "")


def test_the_nightly_plan_task_fails_without_retries_naming_the_key(misspelled: Path):
    from airflow.sdk.exceptions import AirflowFailException

    from shinrai.orchestration.plan import plan_for_task

    with pytest.raises(AirflowFailException) as failed:
        plan_for_task({})
    assert str(failed.value) == MISTAKE


def test_every_pipeline_step_validates_before_it_writes(misspelled: Path, tmp_path: Path):
    """The DAGs' tasks call these; each refuses a bad configuration with nothing written (dbt's
    and the quality gate's steps used to create the landing files first)."""
    from shinrai import pipeline

    steps = {
        "extract_jira": lambda: pipeline.extract_jira("run-1"),
        "extract_notion": lambda: pipeline.extract_notion("run-1"),
        "extract_slack": lambda: pipeline.extract_slack("run-1"),
        "build_marts": pipeline.build_marts,
        "check_quality": pipeline.check_quality,
        "publish": lambda: pipeline.publish(docs=False),
        "chase": pipeline.chase,
        "build_report": pipeline.build_report,
    }
    for name, step in steps.items():
        with pytest.raises(config.ConfigError) as err:
            step()
        assert str(err.value) == MISTAKE, name
        assert not (tmp_path / "home").exists() and not (tmp_path / "publish").exists(), name
