"""Sandbox shapes on their own (no pipeline): every shape serves the same records at the same instants,
and the shapes really differ in representation (else the invariance test in tests/shapes/ proves nothing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from shinrai.sandbox import Sandbox
from shinrai.sandbox.shapes import SHAPES

from ._support import jira_client, notion_client, slack_client

SCALE = 0.1
MANIFEST_FIELDS = ("seed", "scale", "anchor", "history_start", "counts")


@pytest.fixture(scope="module")
def shaped() -> Iterator[dict[str, Sandbox]]:
    sandboxes = {name: Sandbox(seed=7, scale=SCALE, shape=name).start() for name in SHAPES}
    yield sandboxes
    for sb in sandboxes.values():
        sb.stop()


def _issues(sb: Sandbox) -> dict[str, dict]:
    jira = jira_client(sb)
    out: dict[str, dict] = {}
    for jql in ("issuetype = Incident", "issuetype = Postmortem", 'issuetype = "Prevention Action"'):
        for issue in jira.enhanced_search_issues(jql, maxResults=False, fields="*all"):
            out[issue.raw["id"]] = issue.raw
    return out


def _release_posts(sb: Sandbox) -> list[dict]:
    slack = slack_client(sb)
    channel = next(c for c in slack.conversations_list(limit=1000)["channels"] if c["name"] == "release-announce")
    return [m for m in slack.conversations_history(channel=channel["id"], limit=1000)["messages"]
            if m.get("subtype") == "bot_message"]


def test_every_shape_serves_the_same_counts(shaped: dict[str, Sandbox]) -> None:
    default = {k: shaped["default"].manifest()[k] for k in MANIFEST_FIELDS}
    for name, sb in shaped.items():
        assert {k: sb.manifest()[k] for k in MANIFEST_FIELDS} == default, name
        assert sb.manifest()["shape"] == name


def test_every_shape_serves_the_same_issues_at_the_same_instants(shaped: dict[str, Sandbox]) -> None:
    base = _issues(shaped["default"])
    times = ("created", "updated", "resolutiondate", "duedate")
    for name in SHAPES:
        issues = _issues(shaped[name])
        assert sorted(issues) == sorted(base), name
        for iid, issue in issues.items():
            assert {t: issue["fields"][t] for t in times} == {t: base[iid]["fields"][t] for t in times}, (name, iid)
            assert issue["fields"]["issuetype"]["name"] == base[iid]["fields"]["issuetype"]["name"]


def test_shapes_differ_in_representation(shaped: dict[str, Sandbox]) -> None:
    fields = {name: {f["name"]: f for f in jira_client(sb)._get_json("field")} for name, sb in shaped.items()}
    assert "Incident Level" in fields["default"] and "Incident Level" not in fields["kaisha"]
    assert fields["kaisha"]["障害レベル"]["schema"]["type"] == "option"
    assert fields["kaisha"]["Introduced At"]["schema"]["type"] == "date"
    assert "Product" not in fields["kaisha"]
    assert fields["multi"]["Products"]["schema"] == {**fields["multi"]["Products"]["schema"], "type": "array",
                                                     "items": "option"}
    kaisha, multi, default = (_issues(shaped[n]) for n in ("kaisha", "multi", "default"))
    level = fields["kaisha"]["障害レベル"]["id"]
    introduced = fields["kaisha"]["Introduced At"]["id"]
    incident = next(i for i in kaisha.values() if i["fields"]["issuetype"]["name"] == "Incident"
                    and i["fields"][introduced] and i["fields"][level])
    assert incident["fields"][level]["value"].startswith("レベル")
    assert incident["fields"]["components"][0]["name"]
    assert len(incident["fields"][introduced]) == len("2026-01-01")
    assert default[incident["id"]]["fields"][introduced][:10] == incident["fields"][introduced]
    assert {i["key"].split("-")[0] for i in multi.values()} == {"OPS"}
    assert {i["key"].split("-")[0] for i in default.values()} > {"INC"}
    assert any("emailAddress" not in (i["fields"]["assignee"] or {"emailAddress": 1}) for i in kaisha.values())
    assert all("emailAddress" in i["fields"]["assignee"] for i in default.values() if i["fields"]["assignee"])


def test_release_posts_come_from_a_webhook_in_the_kaisha_shape(shaped: dict[str, Sandbox]) -> None:
    default, kaisha = _release_posts(shaped["default"]), _release_posts(shaped["kaisha"])
    assert [m["ts"] for m in kaisha] == [m["ts"] for m in default] and default
    assert all(m["text"] == "" and m["attachments"][0]["title"] for m in kaisha)
    resumes = [m["attachments"][0]["text"] for m in kaisha if "再開" in m["attachments"][0]["title"]]
    assert resumes and all("incident" not in text for text in resumes)


def test_related_issues_are_a_relation_to_jira_issue_pages(shaped: dict[str, Sandbox]) -> None:
    sb = shaped["kaisha"]
    notion = notion_client(sb)
    manifest = sb.manifest()
    ds = notion.data_sources.retrieve(manifest["notion"]["risk_records_data_source_id"])
    assert ds["properties"]["Related Jira Issues"]["type"] == "relation"
    pages = notion.data_sources.query(manifest["notion"]["risk_records_data_source_id"], page_size=100)["results"]
    related = {p["id"]: p["properties"]["Related Jira Issues"]["relation"] for p in pages}
    # a page object cuts a relation at 25 references (has_more); the page-property endpoint has the rest
    for p in pages:
        prop = p["properties"]["Related Jira Issues"]
        if prop.get("has_more"):
            assert len(prop["relation"]) == 25
            items = notion.pages.properties.retrieve(page_id=p["id"], property_id=prop["id"], page_size=100)
            related[p["id"]] = [item["relation"] for item in items["results"]]
    risk = next(r for r in sb.org.risks if r.related)
    first = notion.pages.retrieve(related[risk.page_id][0]["id"])
    assert first["properties"]["Key"]["title"][0]["plain_text"] == risk.related[0]
    default = {r.page_id: r.related for r in shaped["default"].org.risks}
    assert {pid: len(rel) for pid, rel in related.items()} == {pid: len(default[pid]) for pid in related}
    calendar = notion.data_sources.retrieve(manifest["notion"]["release_calendar_data_source_id"])
    assert calendar["properties"]["Status"]["type"] == "status"


def test_a_relation_holds_every_related_page_in_the_organisation() -> None:
    """The 25-entry cut of a page object is the Notion server's (like Notion's): the shape renders all."""
    from shinrai.sandbox.notion_render import risk_page

    sb = Sandbox(seed=7, scale=0.25, shape="kaisha")
    many = next(r for r in sb.org.risks if len(r.related) > 25)
    relation = risk_page(sb.org, many)["properties"]["Related Jira Issues"]["relation"]
    assert len(relation) == len(many.related)


def test_many_related_records_exist_for_the_25_entry_truncation() -> None:
    org = Sandbox(seed=7, scale=0.25).org
    assert any(len(r.related) > 25 for r in org.risks)


@pytest.mark.parametrize("shape", [n for n in SHAPES if n != "default"])
def test_each_shape_has_a_complete_config(shape: str) -> None:
    path = SHAPES[shape].config_path
    assert path is not None and path.exists()
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    for section in ("reporting", "jira", "notion", "slack", "people", "taxonomies", "products", "releases"):
        assert section in tree, (shape, section)
    assert tree["jira"]["fields"]["severity"] == SHAPES[shape].severity_field
    assert [v for s in tree["taxonomies"]["severities"] for v in s["values"]] == list(SHAPES[shape].severity_labels)


def test_the_cli_offers_every_shape() -> None:
    from shinrai.cli import SHAPE_NAMES, build_parser

    assert set(SHAPE_NAMES) == set(SHAPES)
    ns = build_parser().parse_args(["sandbox", "serve", "--shape", "kaisha"])
    assert ns.shape == "kaisha"
    assert build_parser().parse_args(["demo", "--shape", "multi"]).shape == "multi"


def test_a_home_of_another_shape_starts_over(tmp_path) -> None:  # noqa: ANN001
    from datetime import date

    from shinrai.sandbox.home import claim

    home = tmp_path / "home"
    assert claim(home, 7, 0.25, date(2026, 12, 6)) is None
    (home / "landing").mkdir()
    said = claim(home, 7, 0.25, date(2026, 12, 6), "multi")
    assert said and "another shape" in said and not (home / "landing").exists()
    assert claim(home, 7, 0.25, date(2026, 12, 7), "multi") is None


# What each shape's config may set otherwise than config/shinrai.yaml (dotted paths, list items by index):
# the mapping of what the shape represents differently, and nothing else.
CONFIG_DIFFERENCES: dict[str, tuple[str, ...]] = {
    "kaisha": ("jira.fields.severity", "jira.fields.product", "slack.product_pattern", "slack.incident_pattern",
               *(f"taxonomies.severities.{n}.values" for n in range(4))),
    "multi": ("jira.fields.severity", "jira.fields.product", "jira.jql.incidents", "jira.jql.postmortems",
              "jira.jql.actions", "notion.risk_records.properties.product", "slack.incident_key_prefix",
              "slack.incident_pattern", "products.actions_from",
              *(f"taxonomies.severities.{n}.values" for n in range(4))),
}


def _leaves(tree: object, prefix: str = "") -> dict[str, object]:
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in _leaves(sub, f"{prefix}{key}.").items()}
    if isinstance(tree, list) and tree and all(isinstance(x, dict) for x in tree):
        return {k: v for n, sub in enumerate(tree) for k, v in _leaves(sub, f"{prefix}{n}.").items()}
    return {prefix.rstrip("."): tree}


@pytest.mark.parametrize("shape", [n for n in SHAPES if n != "default"])
def test_a_shape_config_differs_from_the_shipped_config_only_where_the_shape_does(shape: str) -> None:
    """Only configuration differs between shapes, and only where the representation does: every other
    setting of config/shinrai.yaml (ids, patterns, taxonomies, objectives) is the same in the shape's."""
    from shinrai.settings import PROJECT_ROOT

    shipped = _leaves(yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8")))
    shaped = _leaves(yaml.safe_load(SHAPES[shape].config_path.read_text(encoding="utf-8")))  # type: ignore[union-attr]
    allowed = CONFIG_DIFFERENCES[shape]

    def free(path: str) -> bool:
        return any(path == a or path.startswith(a + ".") for a in allowed)

    stale = {p: (v, shaped.get(p, "<missing>")) for p, v in shipped.items() if not free(p) and shaped.get(p) != v}
    assert not stale, f"{shape}.yaml differs from config/shinrai.yaml at {stale}"
    assert all(any(p == a or p.startswith(a + ".") for p in shaped) for a in allowed), "a declared difference is gone"
