"""Every part of a record an extractor reads is checked first: an odd value quarantines that one
record with the reason, where it used to raise in the middle of a page and stop the stream."""

from __future__ import annotations

from shinrai.extract.jira import FieldMap, validate_issue
from shinrai.extract.notion import DataSource, validate_page
from shinrai.extract.slack import validate_message


def test_slack_messages_with_an_unreadable_edit_or_reply_time_are_named():
    assert validate_message({"ts": "1700000000.000100", "edited": {"ts": "1700000100.000000"},
                             "latest_reply": "1700000200.000000"}) is None
    assert validate_message({"ts": "1.0", "edited": "yesterday"}) == "'edited' 'yesterday' is not an object"
    assert validate_message({"ts": "1.0", "edited": {"ts": "soon"}}) == "'edited.ts' 'soon' is not a Slack timestamp"
    assert validate_message({"ts": "1.0", "latest_reply": "x"}) == "'latest_reply' 'x' is not a Slack timestamp"
    assert validate_message({"ts": "1e400"}) == "'ts' '1e400' is not a Slack timestamp"


def test_notion_pages_whose_properties_are_not_objects_are_named():
    source = DataSource("risk_records", "risk_records", "ds", {
        "recognized_at": {"name": "Recognized At", "id": "x", "type": "date"}})
    page = {"id": "p", "last_edited_time": "2024-05-01T00:00:00.000Z", "properties": {"Recognized At": "2024"}}
    assert validate_page(page, source) == "property 'Recognized At' (recognized_at) is not an object"
    page["properties"] = {"Recognized At": {"type": "date", "date": "2024-05-01"}}
    assert validate_page(page, source) == "property 'Recognized At' (recognized_at) date '2024-05-01' is not an object"


def test_jira_issues_with_an_unreadable_changelog_or_key_are_named():
    fields = FieldMap({})
    issue = {"id": "1", "key": "INC-1", "fields": {
        "summary": "s", "status": {"name": "Open"}, "issuetype": {"name": "Incident"},
        "created": "2024-05-01T10:02:34.255+0900", "updated": "2024-05-01T10:02:34.255+0900"}}
    assert validate_issue(issue | {"changelog": {"total": 1, "histories": [{"id": "1"}]}}, fields) is None
    reason = "'changelog' is not an object with a list of histories"
    assert validate_issue(issue | {"changelog": ["h"]}, fields) == reason
    assert validate_issue(issue | {"changelog": {"histories": ["h"]}}, fields) == reason
    assert validate_issue(issue | {"key": 12}, fields) == "'key' 12 is not a string"
