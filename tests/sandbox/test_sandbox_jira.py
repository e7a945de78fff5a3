"""The fake Jira against the real ``jira`` client (3.10.5), unmodified."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from jira import JIRA
from jira.exceptions import JIRAError

from shinrai.sandbox import Sandbox
from shinrai.sandbox.timefmt import JST

from ._support import jira_client, jira_get, jira_post

INCIDENTS = "project = INC AND issuetype = Incident"
LEGACY = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
          "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")


def _dup_key(manifest: dict) -> str:
    return next(d["key"] for d in manifest["defects"] if d["kind"] == "duplicate_across_pages")


def test_enhanced_search_pages_through_every_incident(jira: JIRA, manifest: dict) -> None:
    issues = jira.enhanced_search_issues(
        f"{INCIDENTS} ORDER BY updated ASC, key ASC", maxResults=0,
        fields=["summary", "status", "Incident Level", "Occurred At", "created", "updated"],
    )
    keys = [i.key for i in issues]
    assert len(set(keys)) == manifest["counts"]["jira.incidents"] == 400
    assert keys.count(_dup_key(manifest)) == 2  # the planted duplicate reaches the client twice
    updated = [i.fields.updated for i in issues]
    assert [datetime.fromisoformat(u) for u in updated] == sorted(datetime.fromisoformat(u) for u in updated)
    sample = issues[10]
    assert sample.raw["fields"]["Incident Level"] == sample.raw["fields"]["customfield_10040"]  # client alias
    assert datetime.fromisoformat(sample.raw["fields"]["customfield_10042"]).utcoffset().total_seconds() == 9 * 3600


@pytest.mark.parametrize("page_size", [100, 50])
def test_planted_duplicate_sits_across_a_page_boundary(sandbox: Sandbox, manifest: dict, page_size: int) -> None:
    dup = _dup_key(manifest)
    pages: list[list[str]] = []
    token = None
    while True:
        params: dict = {"jql": f"{INCIDENTS} ORDER BY key ASC", "maxResults": page_size, "fields": "summary"}
        if token:
            params["nextPageToken"] = token
        body = jira_get(sandbox, "/rest/api/3/search/jql", **params).json()
        assert "total" not in body and "startAt" not in body
        pages.append([i["key"] for i in body["issues"]])
        token = body.get("nextPageToken")
        if not token:
            assert body["isLast"] is True
            break
        assert body["isLast"] is False
    flat = [k for p in pages for k in p]
    assert flat.count(dup) == 2 and len(set(flat)) == manifest["counts"]["jira.incidents"]
    assert any(a[-1] == dup and b[0] == dup for a, b in zip(pages, pages[1:], strict=False))
    assert all(len(p) <= page_size for p in pages)


def test_post_search_tolerates_nulls_like_the_client_sends(sandbox: Sandbox) -> None:
    body = {"jql": INCIDENTS, "fields": ["summary"], "expand": None, "properties": None, "reconcileIssues": [],
            "maxResults": 3}
    r = jira_post(sandbox, "/rest/api/3/search/jql", body)
    assert r.status_code == 200 and len(r.json()["issues"]) == 3
    client = jira_client(sandbox)
    via_post = client.enhanced_search_issues(INCIDENTS, maxResults=7, fields=["summary"], use_post=True)
    assert len(via_post) == 7 and via_post.nextPageToken


@pytest.mark.parametrize("version", ["2", "3"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_legacy_search_is_gone(sandbox: Sandbox, version: str, method: str) -> None:
    c = sandbox.credentials["jira"]
    r = requests.request(method, f"{sandbox.jira_url}/rest/api/{version}/search", params={"jql": INCIDENTS},
                         auth=(c["email"], c["token"]), timeout=10)
    assert r.status_code == 410
    assert r.json() == {"errorMessages": [LEGACY], "errors": {}}


def test_unbounded_jql_is_rejected(sandbox: Sandbox, jira: JIRA) -> None:
    r = jira_get(sandbox, "/rest/api/3/search/jql", jql="ORDER BY created DESC")
    assert r.status_code == 400
    assert r.json()["errorMessages"] == [
        "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."]
    with pytest.raises(JIRAError) as err:
        jira.enhanced_search_issues("order by key", maxResults=5)
    assert err.value.status_code == 400


def test_more_than_seven_order_fields_rejected(sandbox: Sandbox) -> None:
    jql = f"{INCIDENTS} ORDER BY updated, created, key, id, status, duedate, resolved, project"
    assert jira_get(sandbox, "/rest/api/3/search/jql", jql=jql).status_code == 400
    jql7 = f"{INCIDENTS} ORDER BY updated, created, key, id, status, duedate, resolved"
    assert jira_get(sandbox, "/rest/api/3/search/jql", jql=jql7).status_code == 200


def test_bad_credentials_raise_401(sandbox: Sandbox) -> None:
    with pytest.raises(JIRAError) as err:
        jira_client(sandbox, token="wrong-token")
    assert err.value.status_code == 401
    r = requests.get(f"{sandbox.jira_url}/rest/api/3/field", timeout=10)
    assert r.status_code == 401 and r.json()["errorMessages"]


def test_server_info_says_cloud(sandbox: Sandbox) -> None:
    info = jira_get(sandbox, "/rest/api/3/serverInfo").json()
    assert info["deploymentType"] == "Cloud" and isinstance(info["versionNumbers"], list)


def test_fields_resolve_by_name(sandbox: Sandbox, config: dict, manifest: dict) -> None:
    fields = jira_get(sandbox, "/rest/api/3/field").json()
    by_name = {f["name"]: f for f in fields}
    for name in config["jira"]["fields"].values():
        assert by_name[name]["custom"] is True and by_name[name]["id"].startswith("customfield_")
        assert manifest["jira_fields"][name] == by_name[name]["id"]
    assert by_name["Summary"]["schema"]["system"] == "summary"
    assert any(f["id"] == "issuekey" and "key" in f["clauseNames"] for f in fields)


def test_default_fields_are_id_only_and_page_caps(sandbox: Sandbox) -> None:
    body = jira_get(sandbox, "/rest/api/3/search/jql", jql="project = INC", maxResults=5000).json()
    assert all("fields" not in i for i in body["issues"])
    assert len(body["issues"]) > 100  # id-only pages may be large
    body = jira_get(sandbox, "/rest/api/3/search/jql", jql="project = INC", maxResults=500,
                    fields=["summary", "status"]).json()
    assert len(body["issues"]) == 100 and set(body["issues"][0]["fields"]) == {"summary", "status"}
    body = jira_get(sandbox, "/rest/api/3/search/jql", jql="project = INC", maxResults=1,
                    fields="*all,-description,-comment").json()
    fields = body["issues"][0]["fields"]
    assert "description" not in fields and "summary" in fields and "customfield_10040" in fields


def test_config_jql_counts_match_manifest(jira: JIRA, config: dict, manifest: dict) -> None:
    for stream, jql in (("jira.incidents", config["jira"]["jql"]["incidents"]),
                        ("jira.postmortems", config["jira"]["jql"]["postmortems"]),
                        ("jira.actions", config["jira"]["jql"]["actions"])):
        count = jira.approximate_issue_count(jql)
        assert count == manifest["counts"][stream], stream


def test_date_literals_epoch_and_zones_agree(sandbox: Sandbox, jira: JIRA) -> None:
    incidents = sorted((i for i in sandbox.org.issues if i.kind == "incident"), key=lambda i: i.updated)
    pivot = datetime.fromtimestamp(incidents[len(incidents) // 2].updated, JST).replace(second=0, microsecond=0)
    ms = int(pivot.timestamp() * 1000)
    jst_literal = pivot.strftime("%Y/%m/%d %H:%M")
    utc_literal = pivot.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    count = jira.approximate_issue_count
    by_ms = count(f"{INCIDENTS} AND updated >= {ms}")
    assert by_ms == count(f'{INCIDENTS} AND updated >= "{jst_literal}"')  # no zone: account zone Asia/Tokyo
    assert by_ms == count(f'{INCIDENTS} AND updated >= "{utc_literal} UTC"')
    assert by_ms == count(f'{INCIDENTS} AND updated >= "{pivot.strftime("%Y-%m-%d %H:%M")} +0900"')
    assert by_ms > count(f'{INCIDENTS} AND updated >= "{jst_literal} UTC"')  # same wall clock, 9 h later
    truth = sum(1 for i in sandbox.org.issues if i.kind == "incident" and i.updated * 1000 >= ms)
    assert by_ms == truth


def test_changelog_embedded_in_search_is_truncated(sandbox: Sandbox) -> None:
    chatty = next(i for i in sandbox.org.issues if i.chatty)
    body = jira_get(sandbox, "/rest/api/3/search/jql", jql=f"key = {chatty.key}", fields="status",
                    expand="changelog").json()
    log = body["issues"][0]["changelog"]
    assert log["total"] > 100 and len(log["histories"]) == 40
    created = [h["created"] for h in log["histories"]]
    assert created == sorted(created, reverse=True)  # newest first
    values: list[dict] = []
    start = 0
    while True:
        page = jira_get(sandbox, f"/rest/api/3/issue/{chatty.key}/changelog", startAt=start, maxResults=500).json()
        assert page["maxResults"] == 100
        values += page["values"]
        if page["isLast"]:
            break
        start += page["maxResults"]
    assert len(values) == log["total"] == len({v["id"] for v in values})
    statuses = [it for v in values for it in v["items"] if it["field"] == "status"]
    assert statuses and statuses[-1]["toString"] == "Closed"


def test_issue_shape_links_and_v2_wiki(sandbox: Sandbox, jira: JIRA) -> None:
    inc = next(i for i in sandbox.org.issues if i.kind == "incident" and i.linked_from and i.status == "Closed")
    issue = jira.issue(inc.key)
    links = issue.raw["fields"]["issuelinks"]
    pm_link = next(link for link in links if link["type"]["name"] == "Postmortem")
    assert pm_link["type"]["inward"] == "has postmortem" and "inwardIssue" in pm_link
    assert issue.raw["fields"]["description"]["type"] == "doc"
    assert issue.raw["fields"]["resolutiondate"] and issue.fields.status.statusCategory.key == "done"
    pm = jira.issue(pm_link["inwardIssue"]["key"])
    back = next(link for link in pm.raw["fields"]["issuelinks"] if link["type"]["name"] == "Postmortem")
    assert back["outwardIssue"]["key"] == inc.key and back["type"]["outward"] == "is postmortem of"
    actions = [link for link in pm.raw["fields"]["issuelinks"] if link["type"]["name"] == "Prevention"]
    assert actions and all(link["type"]["inward"] == "has prevention action" for link in actions)
    v2 = jira_client(sandbox, version="2").issue(inc.key)
    assert isinstance(v2.raw["fields"]["description"], str)


def test_actions_have_owner_due_and_left_owner(sandbox: Sandbox, jira: JIRA, manifest: dict) -> None:
    left = next(d for d in manifest["defects"] if d["kind"] == "action_owner_left")
    action = jira.issue(left["key"])
    assert action.fields.assignee.active is False
    assert action.fields.status.statusCategory.key != "done"
    no_due = next(d for d in manifest["defects"] if d["kind"] == "action_without_due_date")
    assert jira.issue(no_due["key"]).fields.duedate is None


def test_versions_and_projects(sandbox: Sandbox, jira: JIRA, config: dict, manifest: dict) -> None:
    total = 0
    for key in config["jira"]["release_projects"]:
        values: list[dict] = []
        start = 0
        while True:
            page = jira_get(sandbox, f"/rest/api/3/project/{key}/version", startAt=start, maxResults=50).json()
            values += page["values"]
            if page["isLast"]:
                break
            start += 50
        assert values == jira_get(sandbox, f"/rest/api/3/project/{key}/versions").json()
        total += len(values)
        assert len(jira.project_versions(key)) == len(values)
    assert total == manifest["counts"]["jira.versions"]
    projects = jira_get(sandbox, "/rest/api/3/project/search").json()
    assert {p["key"] for p in projects["values"]} == {"INC", *config["jira"]["release_projects"]}


def test_users_search(sandbox: Sandbox, manifest: dict) -> None:
    users = jira_get(sandbox, "/rest/api/3/users/search", maxResults=1000).json()
    assert len(users) == manifest["counts"]["jira.users"]
    assert any(u["active"] is False for u in users)


@pytest.mark.parametrize("token", ["garbage", "eyJvIjoxMDB9.bm9wZQ"])
def test_garbage_page_token_is_400(sandbox: Sandbox, token: str) -> None:
    r = jira_get(sandbox, "/rest/api/3/search/jql", jql=INCIDENTS, nextPageToken=token)
    assert r.status_code == 400


def test_page_token_is_bound_to_its_query_and_expires(sandbox: Sandbox) -> None:
    first = jira_get(sandbox, "/rest/api/3/search/jql", jql=INCIDENTS, maxResults=5).json()
    token = first["nextPageToken"]
    assert jira_get(sandbox, "/rest/api/3/search/jql", jql=INCIDENTS, nextPageToken=token).status_code == 200
    other = jira_get(sandbox, "/rest/api/3/search/jql", jql="project = INC", nextPageToken=token)
    assert other.status_code == 400
    sandbox.jira.token_ttl_s = -1
    try:
        assert jira_get(sandbox, "/rest/api/3/search/jql", jql=INCIDENTS, nextPageToken=token).status_code == 400
    finally:
        sandbox.jira.token_ttl_s = 7 * 86400


def test_comments_v3_adf_and_v2_text(sandbox: Sandbox) -> None:
    key = next(i.key for i in sandbox.org.issues if i.kind == "action")
    client = jira_client(sandbox)
    doc = {"type": "doc", "version": 1,
           "content": [{"type": "paragraph", "content": [{"type": "text", "text": "期限が過ぎています / overdue"}]}]}
    comment = client.add_comment(key, doc)
    assert comment.raw["body"] == doc
    with pytest.raises(JIRAError) as err:
        client.add_comment(key, "plain strings are not ADF")
    assert err.value.status_code == 400
    jira_client(sandbox, version="2").add_comment(key, "v2 takes wiki text")
    posted = sandbox.jira_comments[key]
    assert [c["text"] for c in posted][-2:] == ["期限が過ぎています / overdue", "v2 takes wiki text"]
    listed = jira_get(sandbox, f"/rest/api/3/issue/{key}/comment").json()
    assert listed["total"] >= 2 and listed["comments"][-1]["body"]["type"] == "doc"


def test_unknown_issue_is_404(sandbox: Sandbox) -> None:
    r = jira_get(sandbox, "/rest/api/3/issue/INC-999999")
    assert r.status_code == 404
    assert r.json() == {"errorMessages": ["Issue does not exist or you do not have permission to see it."],
                        "errors": {}}
