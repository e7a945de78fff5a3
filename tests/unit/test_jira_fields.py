from __future__ import annotations

import pytest

from shinrai import config
from shinrai.extract.jira import FieldMap, validate_issue

OPTION = {"type": "option", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select"}
DATETIME = {"type": "datetime", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:datetime"}
CATALOGUE = [
    {"id": "summary", "name": "Summary", "schema": {"type": "string", "system": "summary"}},
    {"id": "customfield_10040", "name": "Incident Level", "schema": OPTION},
    {"id": "customfield_10041", "name": "Introduced At", "schema": DATETIME},
    {"id": "customfield_10042", "name": "Occurred At", "schema": DATETIME},
    {"id": "customfield_10043", "name": "Detected At", "schema": DATETIME},
    {"id": "customfield_10044", "name": "Acknowledged At", "schema": DATETIME},
    {"id": "customfield_10045", "name": "Mitigated At", "schema": DATETIME},
    {"id": "customfield_10046", "name": "Recovered At", "schema": DATETIME},
    {"id": "customfield_10047", "name": "Product", "schema": OPTION},
    {"id": "customfield_10048", "name": "Detection Route", "schema": OPTION},
    {"id": "customfield_10049", "name": "Cause Category", "schema": OPTION},
    {"id": "customfield_10050", "name": "Development Category", "schema": OPTION},
    {"id": "customfield_10015", "name": "Start date", "schema": {"type": "date"}},
    {"id": "issuekey", "name": "Key"},
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


def _mapped(tmp_path, **fields: str):
    """The shipped configuration with some ``jira.fields`` mapped to other Jira fields."""
    import yaml

    from shinrai.settings import PROJECT_ROOT

    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    tree["jira"]["fields"].update(fields)
    path = tmp_path / "shinrai.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    return config.load(path)


def test_a_timestamp_mapped_to_a_select_field_fails_at_resolution_naming_key_field_and_type(tmp_path):
    """Mapped to a select field, occurred_at used to quarantine every incident of every run; now
    the field map refuses it before any issue is read, in one line."""
    with pytest.raises(config.ConfigError) as err:
        FieldMap.resolve(_mapped(tmp_path, occurred_at="Product"), CATALOGUE)
    assert str(err.value) == ("config jira.fields.occurred_at: 'Product' is an option field; "
                              "a timestamp needs a datetime field")
    # the fields without a type rule (yet) still take any type
    fields = FieldMap.resolve(_mapped(tmp_path, product="Recovered At", severity="Summary"), CATALOGUE)
    assert fields.ids["product"] == "customfield_10046" and fields.ids["severity"] == "summary"


@pytest.mark.parametrize(("name", "found"), [("Start date", "a date field"), ("Key", "a field without a type"),
                                             ("customfield_10040", "an option field")])
def test_every_timestamp_field_needs_a_datetime_field(tmp_path, name, found):
    """A date field (no time, no offset: every value would be quarantined), a system field without
    a schema, a select given by id: each refused for every timestamp logical field."""
    for logical in ("introduced_at", "recovered_at"):
        with pytest.raises(config.ConfigError) as err:
            FieldMap.resolve(_mapped(tmp_path, **{logical: name}), CATALOGUE)
        assert str(err.value).startswith(f"config jira.fields.{logical}: ")
        assert f"is {found}; a timestamp needs a datetime field" in str(err.value)


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
