"""The GX definitions live in code and in the committed gx/ folder, and the two agree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from shinrai.quality import gx
from shinrai.quality.rules import CHECKPOINTS, DATASETS, INDEX_COLUMNS
from shinrai.settings import PROJECT_ROOT

COMMITTED = PROJECT_ROOT / "gx"


def _strip_ids(tree):
    if isinstance(tree, dict):
        return {k: _strip_ids(v) for k, v in tree.items() if k != "id"}
    if isinstance(tree, list):
        return [_strip_ids(v) for v in tree]
    return tree


def _definitions(root: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("uncommitted") or not path.is_file():
            continue
        if path.suffix == ".json":
            out[rel] = _strip_ids(json.loads(path.read_text(encoding="utf-8")))
        elif path.suffix in (".yml", ".yaml"):
            out[rel] = _strip_ids(yaml.safe_load(path.read_text(encoding="utf-8")))
    return out


def test_committed_gx_folder_matches_sync_definitions(tmp_path, monkeypatch):
    copy = tmp_path / "gx"
    shutil.copytree(COMMITTED, copy, ignore=shutil.ignore_patterns("uncommitted"))
    monkeypatch.setenv("SHINRAI_GX_DIR", str(copy))
    monkeypatch.setenv("SHINRAI_HOME", str(tmp_path / "home"))
    gx.sync_definitions(gx.context())
    assert _definitions(copy) == _definitions(COMMITTED), "run `shinrai gx sync` and commit gx/"
    assert not (copy / "uncommitted").exists()  # a fresh clone needs nothing under uncommitted/


def test_every_rule_is_critical_or_warning_and_named_once_per_suite():
    for dataset in DATASETS.values():
        names = [e.meta["rule"] for e in dataset.expectations()]
        assert len(names) == len(set(names)), dataset.name
        for expectation in dataset.expectations():
            assert getattr(expectation.severity, "value", expectation.severity) in ("critical", "warning")
            assert expectation.description


def test_datasets_expose_the_index_columns_first():
    for dataset in DATASETS.values():
        assert dataset.query.count(" as record_key") + dataset.query.count("as record_key,") >= 1, dataset.name


def test_gx_does_not_retest_keys_that_dbt_tests():
    # dbt owns unique/not_null keys and relationships; GX's uniqueness rule spans streams only
    unique = [(d.name, e.meta["rule"]) for d in DATASETS.values() for e in d.expectations()
              if type(e).__name__ in ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique")]
    assert unique == [("raw_jira_issues", "issue_in_one_stream")]


def test_checkpoints_cover_every_dataset_and_nightly_has_them_all():
    layered = [d for name in ("raw", "staging", "marts") for d in CHECKPOINTS[name]]
    assert sorted(layered) == sorted(CHECKPOINTS["nightly"])
    checkpoint = json.loads((COMMITTED / "checkpoints" / "nightly.json").read_text(encoding="utf-8"))
    assert [v["name"] for v in checkpoint["validation_definitions"]] == list(DATASETS)
    assert checkpoint["result_format"]["unexpected_index_column_names"] == INDEX_COLUMNS
    assert [a["type"] for a in checkpoint["actions"]] == ["shinrai_update_data_docs", "shinrai_slack"]
    assert checkpoint["actions"][1]["slack_webhook"] == "${SHINRAI_QUALITY_SLACK_WEBHOOK}"
