from __future__ import annotations

import pytest

from shinrai import config
from shinrai.extract.jira import FieldMap, validate_issue

CATALOGUE = [
    {"id": "summary", "name": "Summary", "schema": {"system": "summary"}},
    {"id": "customfield_10040", "name": "Incident Level"},
    {"id": "customfield_10041", "name": "Introduced At"},
    {"id": "customfield_10042", "name": "Occurred At"},
    {"id": "customfield_10043", "name": "Detected At"},
    {"id": "customfield_10044", "name": "Acknowledged At"},
    {"id": "customfield_10045", "name": "Mitigated At"},
    {"id": "customfield_10046", "name": "Recovered At"},
    {"id": "customfield_10047", "name": "Product"},
    {"id": "customfield_10048", "name": "Detection Route"},
    {"id": "customfield_10049", "name": "Cause Category"},
    {"id": "customfield_10050", "name": "Development Category"},
]


def test_fields_resolve_by_name():
    fields = FieldMap.resolve(config.load(), CATALOGUE)
    assert fields.ids["severity"] == "customfield_10040"
    assert "customfield_10046" in fields.request_fields()
    assert "summary" in fields.request_fields()


def test_unknown_field_name_names_the_key_and_suggests():
    catalogue = [e for e in CATALOGUE if e["name"] != "Incident Level"] + [
        {"id": "customfield_1", "name": "Incident Levels"}
    ]
    with pytest.raises(config.ConfigError) as err:
        FieldMap.resolve(config.load(), catalogue)
    assert "jira.fields.severity" in str(err.value)
    assert "Incident Levels" in str(err.value)


def test_ambiguous_field_name_asks_for_the_id():
    catalogue = CATALOGUE + [{"id": "customfield_99", "name": "Product"}]
    with pytest.raises(config.ConfigError, match=r"jira\.fields\.product: 2 Jira fields"):
        FieldMap.resolve(config.load(), catalogue)


def _issue(**fields):
    base = {"summary": "s", "status": {"name": "Open"}, "issuetype": {"name": "Incident"},
            "created": "2024-05-01T10:02:34.255+0900", "updated": "2024-05-01T10:02:34.255+0900"}
    base.update(fields)
    return {"id": "1", "key": "INC-1", "fields": base}


def test_validate_issue_flags_unparseable_timestamps_and_missing_fields():
    fields = FieldMap.resolve(config.load(), CATALOGUE)
    assert validate_issue(_issue(customfield_10042="2024-05-01T10:00:00.000+0900"), fields) is None
    reason = validate_issue(_issue(customfield_10042="2024-13-45T99:00"), fields)
    assert reason is not None and "occurred_at" in reason and "2024-13-45T99:00" in reason
    assert "summary" in validate_issue(_issue(summary=None), fields)
    assert validate_issue({"key": "INC-2"}, fields) == "missing 'id'"
