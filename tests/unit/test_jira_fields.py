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
                              "a timestamp needs a datetime or date field")


@pytest.mark.parametrize(("name", "found"), [("Key", "a field without a type"),
                                             ("customfield_10040", "an option field"),
                                             ("Summary", "a string field")])
def test_every_timestamp_field_needs_a_datetime_or_date_field(tmp_path, name, found):
    """A system field without a schema, a select given by id, a text field: each refused for every
    timestamp logical field."""
    for logical in ("introduced_at", "recovered_at"):
        with pytest.raises(config.ConfigError) as err:
            FieldMap.resolve(_mapped(tmp_path, **{logical: name}), CATALOGUE)
        assert str(err.value).startswith(f"config jira.fields.{logical}: ")
        assert f"is {found}; a timestamp needs a datetime or date field" in str(err.value)


CUSTOM = "com.atlassian.jira.plugin.system.customfieldtypes:"
# /rest/api/3/field entries as Jira Cloud lists them (schema type, items, custom / system), for each
# type a logical field can be read from, with the reader staging then uses.
TYPED_FIELDS = [
    ("Date Time", {"type": "datetime", "custom": CUSTOM + "datetime", "customId": 20001}, "timestamp", "datetime"),
    ("Date Picker", {"type": "date", "custom": CUSTOM + "datepicker", "customId": 20002}, "timestamp", "date"),
    ("Select", {"type": "option", "custom": CUSTOM + "select", "customId": 20003}, "category", "option"),
    ("Radio", {"type": "option", "custom": CUSTOM + "radiobuttons", "customId": 20004}, "category", "option"),
    ("Multi Select", {"type": "array", "items": "option", "custom": CUSTOM + "multiselect", "customId": 20005},
     "category", "option_array"),
    ("Checkboxes", {"type": "array", "items": "option", "custom": CUSTOM + "multicheckboxes", "customId": 20006},
     "category", "option_array"),
    ("Cascading", {"type": "option-with-child", "custom": CUSTOM + "cascadingselect", "customId": 20007},
     "category", "cascading"),
    ("Labels", {"type": "array", "items": "string", "system": "labels"}, "category", "string_array"),
    ("Team Labels", {"type": "array", "items": "string", "custom": CUSTOM + "labels", "customId": 20008},
     "category", "string_array"),
    ("Components", {"type": "array", "items": "component", "system": "components"}, "category", "name_array"),
    ("Priority", {"type": "priority", "system": "priority"}, "category", "name"),
    ("Version Picker", {"type": "version", "custom": CUSTOM + "version", "customId": 20009}, "category", "name"),
    ("Fix versions", {"type": "array", "items": "version", "system": "fixVersions"}, "category", "name_array"),
    ("Project", {"type": "project", "system": "project"}, "category", "key"),
    ("Status", {"type": "status", "system": "status"}, "category", "name"),
    ("Issue Type", {"type": "issuetype", "system": "issuetype"}, "category", "name"),
    ("Resolution", {"type": "resolution", "system": "resolution"}, "category", "name"),
    ("Text", {"type": "string", "custom": CUSTOM + "textfield", "customId": 20010}, "category", "string"),
    ("Number", {"type": "number", "custom": CUSTOM + "float", "customId": 20011}, "category", "number"),
    ("User Picker", {"type": "user", "custom": CUSTOM + "userpicker", "customId": 20012}, "category", "user"),
    ("People", {"type": "array", "items": "user", "custom": CUSTOM + "multiuserpicker", "customId": 20013},
     "category", "user_array"),
]
# Types nothing here can be read from, and how the error names them.
UNSUPPORTED = [
    ("Sprint", {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint"},
     "an array of json field"),
    ("Rank", {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-lexo-rank"}, "an any field"),
    ("Notes", {"type": "string", "custom": CUSTOM + "textarea"}, "a rich text field"),
    ("Description", {"type": "string", "system": "description"}, "a rich text field"),
    ("Team", {"type": "group", "custom": CUSTOM + "grouppicker"}, "a group field"),
    ("Linked Issues", {"type": "array", "items": "issuelinks", "system": "issuelinks"},
     "an array of issuelinks field"),
    ("Checklist", {"type": "array"}, "an array of unknown field"),
]


def _with(entries):
    return CATALOGUE + [{"id": f"f{i}", "name": name, "schema": schema}
                        for i, (name, schema, *_r) in enumerate(entries)]


@pytest.mark.parametrize(("name", "schema", "need", "reader"), TYPED_FIELDS, ids=[t[0] for t in TYPED_FIELDS])
def test_every_supported_type_is_read_for_its_need_and_refused_for_the_other(tmp_path, name, schema, need, reader):
    """Each type that can carry a need resolves to its reader (stored in raw.field_map for staging);
    the same field for the other need is refused naming the key, the field and its type."""
    fits, other = ("detected_at", "cause_category") if need == "timestamp" else ("cause_category", "detected_at")
    mapped = FieldMap.resolve(_mapped(tmp_path, **{fits: name}), _with(TYPED_FIELDS)).fields[fits]
    assert (mapped.field_id, mapped.reader, mapped.part, mapped.pick) == (
        f"f{TYPED_FIELDS.index((name, schema, need, reader))}", reader, "parent", "first")
    with pytest.raises(config.ConfigError) as err:
        FieldMap.resolve(_mapped(tmp_path, **{other: name}), _with(TYPED_FIELDS))
    message = str(err.value)
    assert message.startswith(f"config jira.fields.{other}: {name!r} is ")
    assert f"field; a {'category' if need == 'timestamp' else 'timestamp'} needs " in message


@pytest.mark.parametrize(("name", "schema", "found"), UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
def test_an_unsupported_type_is_refused_naming_key_field_and_type(tmp_path, name, schema, found):
    for logical, need in (("severity", "a category"), ("mitigated_at", "a timestamp")):
        with pytest.raises(config.ConfigError) as err:
            FieldMap.resolve(_mapped(tmp_path, **{logical: name}), _with(UNSUPPORTED))
        assert str(err.value).startswith(f"config jira.fields.{logical}: {name!r} is {found}; {need} needs ")


def test_the_examples_error_line(tmp_path):
    catalogue = _with([("Detected At", {"type": "number", "custom": CUSTOM + "float"})])
    catalogue = [e for e in catalogue if e["id"] != "customfield_10043"]
    with pytest.raises(config.ConfigError) as err:
        FieldMap.resolve(_mapped(tmp_path), catalogue)
    assert str(err.value) == ("config jira.fields.detected_at: 'Detected At' is a number field; "
                              "a timestamp needs a datetime or date field")


def test_part_and_pick_reach_the_field_map_and_a_child_needs_a_cascading_select(tmp_path):
    cfg = _mapped(tmp_path, product={"name": "Cascading", "part": "child", "pick": "last"},
                  severity={"name": "Multi Select", "pick": "last"})
    fields = FieldMap.resolve(cfg, _with(TYPED_FIELDS)).fields
    assert fields["product"].row()[3:] == ("option-with-child", "cascading", "child", "last")
    assert fields["severity"].row()[3:] == ("array of option", "option_array", "parent", "last")
    with pytest.raises(config.ConfigError) as err:
        FieldMap.resolve(_mapped(tmp_path, product={"name": "Multi Select", "part": "child"}), _with(TYPED_FIELDS))
    assert str(err.value).startswith("config jira.fields.product.part: 'Multi Select' is an array of option field, "
                                     "not a cascading select")


def test_only_severity_and_occurred_at_are_required(tmp_path):
    import yaml

    from shinrai.settings import PROJECT_ROOT

    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    tree["jira"]["fields"] = {"severity": "Incident Level", "occurred_at": "Occurred At"}
    fields = FieldMap.resolve(config.parse(tree, tmp_path / "x.yaml"), CATALOGUE)
    assert set(fields.fields) == {"severity", "occurred_at"}
    del tree["jira"]["fields"]["occurred_at"]
    with pytest.raises(config.ConfigError, match=r"^config jira\.fields\.occurred_at: is missing$"):
        config.parse(tree, tmp_path / "x.yaml")


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


def _typed(logical: str, name: str):
    """A field map with ``logical`` read from the TYPED_FIELDS entry ``name`` (id f<index>)."""
    import yaml

    from shinrai.settings import PROJECT_ROOT

    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    tree["jira"]["fields"][logical] = name
    fields = FieldMap.resolve(config.parse(tree, PROJECT_ROOT / "x.yaml"), _with(TYPED_FIELDS))
    return fields, fields.ids[logical]


# (logical, field, a value Jira sends for it, a malformed one): shapes from Jira Cloud issue payloads
VALUES = [
    ("detected_at", "Date Time", "2024-05-01T10:02:34.255+0900", "2024-05-01"),
    ("detected_at", "Date Picker", "2024-05-01", "2024-05-01T10:02:34.255+0900"),
    ("severity", "Select", {"self": "https://x/rest/api/3/customFieldOption/10040", "value": "Level 1",
                            "id": "10040"}, "Level 1"),
    ("severity", "Multi Select", [{"self": "s", "value": "A", "id": "1"}, {"self": "s", "value": "B", "id": "2"}],
     {"value": "A"}),
    ("severity", "Cascading", {"self": "s", "value": "Parent", "id": "1",
                               "child": {"self": "s", "value": "Child", "id": "2"}}, {"value": "P", "child": "C"}),
    ("severity", "Labels", ["payroll", "sev-1"], "payroll"),
    ("severity", "Components", [{"self": "s", "id": "10000", "name": "Payroll", "description": "d"}], ["Payroll"]),
    ("severity", "Priority", {"self": "s", "iconUrl": "i", "name": "Highest", "id": "1"}, "Highest"),
    ("severity", "Fix versions", [{"self": "s", "id": "1", "name": "3.2.0", "archived": False, "released": True}],
     {"name": "3.2.0"}),
    ("severity", "Project", {"self": "s", "id": "10000", "key": "OPS", "name": "Operations"}, "OPS"),
    ("severity", "Text", "Level 1", {"type": "doc", "version": 1, "content": []}),
    ("severity", "Number", 1.0, "1"),
    ("severity", "User Picker", {"accountId": "5b10", "displayName": "Aoi Sato", "active": True}, "5b10"),
    ("severity", "People", [{"accountId": "5b10", "displayName": "Aoi Sato"}], [{"accountId": "5b10"}]),
]


@pytest.mark.parametrize(("logical", "name", "good", "bad"), VALUES, ids=[v[1] for v in VALUES])
def test_validate_issue_checks_each_value_by_its_reader(logical, name, good, bad):
    """A value of the field's type lands; one of another shape quarantines the issue with a reason
    naming the logical field (never a silent null in staging)."""
    fields, field_id = _typed(logical, name)
    assert validate_issue(_issue(**{field_id: good}), fields) is None
    assert validate_issue(_issue(**{field_id: None}), fields) is None
    reason = validate_issue(_issue(**{field_id: bad}), fields)
    assert reason is not None and reason.startswith(f"field {logical} ({field_id}) value ")


@pytest.mark.parametrize("bad", ["2024-5-1", "01/05/2024", "20240501", "2024-02-30"])
def test_a_malformed_date_picker_value_quarantines(bad):
    fields, field_id = _typed("occurred_at", "Date Picker")
    assert validate_issue(_issue(**{field_id: bad}), fields) == (
        f"field occurred_at ({field_id}) value {bad!r} is not a date (yyyy-mm-dd)")


def test_the_sandbox_catalogue_lists_fields_as_jira_does_and_they_resolve(tmp_path):
    """The sandbox's /field: the shipped mapping resolves to selects and date-time pickers, and the
    system fields a site may map (components, labels, priority, versions, project) carry a category."""
    from shinrai.sandbox.jira_schema import field_catalogue

    catalogue = field_catalogue()
    readers = {logical: m.reader for logical, m in FieldMap.resolve(config.load(), catalogue).fields.items()}
    assert readers == {logical: "datetime" if logical.endswith("_at") else "option"
                       for logical in config.JIRA_LOGICAL_FIELDS}
    for name, reader in [("Components", "name_array"), ("Labels", "string_array"), ("Priority", "name"),
                         ("Fix versions", "name_array"), ("Project", "key")]:
        assert FieldMap.resolve(_mapped(tmp_path, product=name), catalogue).fields["product"].reader == reader
    date_picker = FieldMap.resolve(_mapped(tmp_path, introduced_at="Start date"), catalogue).fields["introduced_at"]
    assert (date_picker.field_type, date_picker.reader) == ("date", "date")


def test_every_logical_field_declares_what_it_needs():
    from shinrai.extract.jira import NEEDS

    assert set(NEEDS) == set(config.JIRA_LOGICAL_FIELDS)
