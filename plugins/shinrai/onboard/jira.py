"""``shinrai check`` for Jira: a read-only probe of the live site against the configuration.

What it asks, in order (every request a GET, or the read-only count POST):

1. ``/myself``: the connection's e-mail and API token are accepted (a 401/403, a site that does not
   answer, or an HTML page instead of the API is one finding naming the connection);
2. ``/field``: every ``jira.fields.*`` resolved and type-checked by the extractor's own
   :meth:`FieldMap.resolve` (one logical field at a time, so every mistake is reported, not the first);
3. ``POST /search/approximate-count`` per stream: how many issues each ``jira.jql.*`` selects (enhanced
   search has no ``total``; counting by paging would cost as much as the load itself);
4. enhanced search over the incidents JQL asking only the mapped fields: a sample value per field, and
   the category values no ``taxonomies.*`` entry (or product) claims, read with the very SQL dbt
   staging reads them with (``dbt_project/macros/jira_field.sql``), so what this reports unmapped is
   what ``rpt_classification_issues`` will flag.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Any

from shinrai.config import Config, ConfigError
from shinrai.extract.jira import CATEGORY_LOGICAL_FIELDS, SWEEP_PAGE_SIZE, FieldMap, field_type, reader_for
from shinrai.hooks.pacing import JIRA_LIMIT, paced_seconds
from shinrai.hooks.retry import SourceUnavailable, host_of
from shinrai.onboard.findings import Finding, SourceReport, StreamCount
from shinrai.settings import paths

if TYPE_CHECKING:
    from shinrai.extract.jira import MappedField
    from shinrai.hooks.jira import JiraHook

SOURCE = "jira"
# the incident categories and the taxonomy that maps each (products: products.catalogue)
TAXONOMY_OF = {"severity": "severities", "detection_route": "detection_routes",
               "cause_category": "cause_categories", "development_category": "development_categories"}
# an unmapped severity changes every severity-weighted figure (impact weight, postmortem owed, major
# count): an error; an unmapped route or category is kept as entered and flagged: a warning
ERROR_TAXONOMIES = ("severities",)
MAX_VALUES_LISTED = 10  # per taxonomy; the rest is one line "and N more"


def connection_fix(conn_id: str) -> str:
    return (f"check the Airflow connection {conn_id!r} (AIRFLOW_CONN_{conn_id.upper()}): host = the site URL "
            "(https://<site>.atlassian.net), login = the account e-mail, password = an API token "
            "from id.atlassian.com/manage-profile/security/api-tokens")


def probe(config: Config, hook: JiraHook) -> SourceReport:
    report = SourceReport(SOURCE)
    conn_key = f"connection {config.jira_conn_id}"
    try:
        me = hook.call(hook.client.myself)
        catalogue = hook.call(hook.client.fields)
    except (SourceUnavailable, ValueError) as exc:
        problem = str(exc)
        host = host_of(hook.site_url()) if not isinstance(exc, ValueError) else ""
        if host and host not in problem:
            problem += f" (host {host})"
        report.findings.append(Finding(SOURCE, conn_key, problem, connection_fix(config.jira_conn_id)))
        return report
    report.samples[conn_key] = f"accepted as {me.get('emailAddress') or me.get('displayName') or '?'}"
    mapped = _resolve_fields(config, catalogue, report)
    _check_link_types(config, hook, report)
    _count_streams(config, hook, report)
    _read_values(config, hook, catalogue, mapped, report)
    return report


# -- fields ----------------------------------------------------------------------------------------


def _resolve_fields(config: Config, catalogue: list[dict[str, Any]], report: SourceReport) -> dict[str, MappedField]:
    """Each configured field through the extractor's resolution, alone (so each mistake is a line)."""
    out: dict[str, MappedField] = {}
    for logical, name in config.jira_fields.items():
        options = {logical: config.jira_field_options[logical]} if logical in config.jira_field_options else {}
        one = replace(config, jira_fields={logical: name}, jira_field_options=options)
        try:
            out[logical] = FieldMap.resolve(one, catalogue).fields[logical]
        except ConfigError as exc:
            report.findings.append(Finding(SOURCE, exc.key, exc.problem, _field_fix(logical, name, catalogue, exc)))
    return out


def _describe(entry: dict[str, Any]) -> str:
    return f"{entry.get('name')!r} ({entry['id']}, {field_type(entry) or 'no type'})"


def _carries(logical: str, entry: dict[str, Any]) -> bool:
    try:
        reader_for(logical, entry)
    except ValueError:
        return False
    return True


def _field_fix(logical: str, name: str, catalogue: list[dict[str, Any]], exc: ConfigError) -> str:
    """The concrete change: the fields of a type that can carry ``logical`` named most like ``name``."""
    key = f"jira.fields.{logical}"
    if exc.key.endswith(".part"):
        return f"remove {exc.key} (or map {key} to a cascading select)"
    if "give the id" in exc.problem:
        same = [e for e in catalogue if e.get("name") == name]
        return f"set {key} to one of the ids: " + ", ".join(_describe(e) for e in same)
    fitting = {e.get("name") or e["id"]: e for e in catalogue if _carries(logical, e)}
    # named like what was written, or like the logical field itself ("occurred_at" ~ "Occurred At")
    close = list(dict.fromkeys([*difflib.get_close_matches(name, list(fitting), n=1, cutoff=0.6),
                                *difflib.get_close_matches(logical.replace("_", " "), list(fitting), n=1, cutoff=0.6)]))
    if close:
        return f"set {key} to {' or '.join(_describe(fitting[c]) for c in close)} (its name or id)"
    if fitting:
        return (f"set {key} to a field of a type that can carry it (this site has {len(fitting)}, e.g. "
                f"{_describe(next(iter(fitting.values())))})")
    return f"create a field of a type that can carry it in Jira, then set {key} to its name"


def _check_link_types(config: Config, hook: JiraHook, report: SourceReport) -> None:
    """The issue link types the configuration names exist on the site (dbt matches them by exact
    name: a misspelled one links no postmortem to its incident, silently)."""
    named = {"jira.postmortem_link_type": config.postmortem_link_type}
    if config.actions_link_type is not None:
        named["jira.actions_relation.link_type"] = config.actions_link_type
    try:
        listing = hook.get_json("issueLinkType")
    except SourceUnavailable as exc:
        report.findings.append(Finding(SOURCE, "jira.postmortem_link_type", f"the link types could not be listed: "
                                       f"{exc.cause}", "check the account may browse the site", "warning"))
        return
    types = [t for t in (listing or {}).get("issueLinkTypes") or [] if isinstance(t, dict) and t.get("name")]
    by_name = {t["name"]: t for t in types}
    for key, name in named.items():
        if name in by_name:
            t = by_name[name]
            report.samples[key] = f"{name!r} ({t.get('outward')} / {t.get('inward')})"
            continue
        close = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.5)
        report.findings.append(Finding(
            SOURCE, key, f"no issue link type is named {name!r} (names match exactly)",
            f"set {key} to {close[0]!r}" if close else
            f"set {key} to one of {', '.join(repr(n) for n in by_name)}"))


# -- counts ----------------------------------------------------------------------------------------


def _count_streams(config: Config, hook: JiraHook, report: SourceReport) -> None:
    burst, per_second = JIRA_LIMIT
    client = hook.client
    searched = 0  # the streams run at once on one pacer (extract/runs.py): each row is what its requests add
    for stream, jql in config.jira_jql.items():
        try:
            count = int(hook.call(lambda jql=jql: client.approximate_issue_count(jql)))
        except SourceUnavailable as exc:
            report.findings.append(Finding(SOURCE, f"jira.jql.{stream}", f"Jira refused the JQL {jql!r}: {exc.cause}",
                                           "fix the query so Jira's issue search accepts it (try it in Jira's "
                                           "advanced search)"))
            continue
        except ValueError as exc:  # the client refuses: not Jira Cloud (no approximate-count, no enhanced search)
            report.findings.append(Finding(SOURCE, f"connection {config.jira_conn_id}", str(exc),
                                           "point the connection at a Jira Cloud site (shinrai reads Jira Cloud's "
                                           "REST v3)"))
            return
        # the first full load pages the stream by jira.page_size, then the deletion sweep lists its
        # ids (truncated changelogs add /issue/{key}/changelog calls on top: not countable without
        # reading the issues, so the figure is a floor)
        pages = max(1, math.ceil(count / config.jira_page_size)) + max(1, math.ceil(count / SWEEP_PAGE_SIZE))
        added = paced_seconds(searched + pages, burst, per_second) - paced_seconds(searched, burst, per_second)
        searched += pages
        report.counts.append(StreamCount(SOURCE, stream, count, pages, added))
        if count == 0:
            report.findings.append(Finding(SOURCE, f"jira.jql.{stream}", f"the query {jql!r} selects no issue",
                                           "check the project keys and issue type names in it", "warning"))
    if config.release_projects:  # one listing per project, read whole each run (a few requests: read here too)
        versions = 0
        for project in config.release_projects:
            try:
                listing = hook.get_json(f"project/{project}/versions")
            except SourceUnavailable as exc:
                report.findings.append(Finding(SOURCE, "jira.release_projects", f"project {project!r}: {exc.cause}",
                                               "list the keys of projects this account can browse", "error"))
                continue
            versions += len(listing) if isinstance(listing, list) else 0
        requests = len(config.release_projects)
        report.counts.append(StreamCount(SOURCE, "versions", versions, requests,
                                         paced_seconds(requests, burst, per_second)))


# -- values ----------------------------------------------------------------------------------------


def _read_values(config: Config, hook: JiraHook, catalogue: list[dict[str, Any]], mapped: dict[str, MappedField],
                 report: SourceReport) -> None:
    """A sample of every resolved field, and the category values the configuration does not map, over
    the incidents stream (the stream that carries the categories), asking for the mapped fields only."""
    if not mapped or "incidents" not in config.jira_jql or any(
            f.key == "jira.jql.incidents" and f.level == "error" for f in report.findings):
        return
    client = hook.client
    # what the extractor does before searching: the client's own name->id cache, so it does not
    # read /field again on each search
    client._fields_cache_value = {n: e["id"] for e in catalogue for n in e.get("clauseNames", [])}
    jql = f"({config.jira_jql['incidents']}) ORDER BY key ASC"
    ids = sorted({m.field_id for m in mapped.values()})
    by_id: dict[str, str] = {}  # search may serve an issue twice across pages: each is counted once
    token = None
    tokens: set[str] = set()
    while True:
        try:
            page = hook.call(lambda token=token: client.enhanced_search_issues(
                jql, nextPageToken=token, maxResults=config.jira_page_size, fields=ids, json_result=True))
        except SourceUnavailable as exc:
            report.findings.append(Finding(SOURCE, "jira.jql.incidents", f"reading the incidents failed: {exc.cause}",
                                           "run shinrai check again; if it persists, check the query in Jira"))
            return
        by_id.update({str(i.get("id") or i.get("key")): json.dumps({"fields": i.get("fields") or {}})
                      for i in page.get("issues") or [] if isinstance(i, dict)})
        token = page.get("nextPageToken") or None
        if not token or token in tokens:  # a repeated token would loop (the extractor stops on it too)
            break
        tokens.add(token)
    payloads = list(by_id.values())
    values = _category_values(mapped, payloads)
    for logical, m in mapped.items():
        key = f"jira.fields.{logical}"
        seen = _first_value(m, payloads) if logical not in values else \
            (max(values[logical], key=lambda vn: vn[1])[0] if values[logical] else None)
        where = f"{m.field_name!r} ({m.field_id}, {m.field_type})"
        if seen is None:
            if payloads:
                report.findings.append(Finding(SOURCE, key, f"{where} is empty in all {len(payloads)} incidents",
                                               "check it is the field your incidents fill in", "warning"))
            report.samples[key] = f"{where}: (empty)"
        else:
            report.samples[key] = f"{where}: {seen!r}"
    for logical, counted in values.items():
        _unmapped(config, logical, mapped[logical], counted, report)


def _first_value(m: MappedField, payloads: list[str]) -> str | None:
    for payload in payloads:
        value = json.loads(payload)["fields"].get(m.field_id)
        if value not in (None, "", []):
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:80]
    return None


@cache
def _staging_macros() -> Any:
    """dbt staging's own Jira macros (``macros/jira_field.sql``) rendered with plain Jinja: a value is
    read here exactly as staging reads it (reader, part, pick, trimming), not by a copy of the rules."""
    import jinja2

    text = (paths().dbt_project_dir / "macros" / "jira_field.sql").read_text(encoding="utf-8")
    return jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(text).module


def _category_values(mapped: dict[str, MappedField], payloads: list[str]) -> dict[str, list[tuple[str, int]]]:
    """Per mapped category field, each value that counts (after pick) and in how many incidents."""
    import duckdb

    categories = [logical for logical in CATEGORY_LOGICAL_FIELDS if logical in mapped]
    if not categories:
        return {}
    macros = _staging_macros()
    fm = ", ".join(f"'{m.field_id}' as {m.logical}, '{m.reader}' as {m.logical}_reader, "
                   f"'{m.part}' as {m.logical}_part, '{m.pick}' as {m.logical}_pick"
                   for m in (mapped[c] for c in categories))
    picked = ", ".join(f"{macros.jira_field_pick(c, str(macros.jira_field_values(c)))} as {c}" for c in categories)
    out: dict[str, list[tuple[str, int]]] = {}
    with duckdb.connect() as con:
        con.execute(f"""create temp table picked as
            with issues as (select unnest(?::varchar[]) as payload),
            parsed as (select {macros.jira_fields()} as fields from issues),
            fm as (select {fm})
            select {picked} from parsed cross join fm""", [payloads])  # noqa: S608 - ids from /field
        for c in categories:
            out[c] = [(v, n) for v, n in con.execute(
                f"select {c}, count(*) from picked where {c} is not null group by 1 order by 2 desc, 1").fetchall()]
    return out


def _claims(config: Config, logical: str) -> tuple[str, list[str]]:
    """The config key that maps ``logical``'s values and every value it claims."""
    if logical == "product":
        named = ("code", "name", "name_ja", "jira_project_key", "slack_channel")
        return "products.catalogue", [str(p[k]) for p in config.products.catalogue for k in named if p.get(k)] + \
            [str(a) for p in config.products.catalogue for a in p.get("aliases") or []]
    taxonomy = TAXONOMY_OF[logical]
    return f"taxonomies.{taxonomy}", [str(v) for e in getattr(config.taxonomies, taxonomy) for v in e["values"]]


def _unmapped(config: Config, logical: str, m: MappedField, counted: list[tuple[str, int]],
              report: SourceReport) -> None:
    import duckdb

    if logical == "product" and config.products.incidents_from != "field":
        return
    key, claimed = _claims(config, logical)
    if not counted:
        return
    with duckdb.connect() as con:  # compared as dbt compares (stg_config__taxonomy_values): lower(trim())
        rows = con.execute("""select v, n from (select unnest(?::varchar[]) as v, unnest(?::bigint[]) as n)
                              where lower(trim(v)) not in (select lower(trim(c)) from unnest(?::varchar[]) as t(c))
                              order by n desc, v""", [[v for v, _ in counted], [n for _, n in counted], claimed]
                           ).fetchall()
    level = "error" if key.removeprefix("taxonomies.") in ERROR_TAXONOMIES else "warning"
    entry = "products.catalogue[].aliases" if logical == "product" else f"{key}[].values"
    for value, n in rows[:MAX_VALUES_LISTED]:
        report.findings.append(Finding(
            SOURCE, key, f"{value!r} in {n} incident{'s' if n != 1 else ''} ({m.field_name!r}, jira.fields.{logical}) "
            "is claimed by no entry", f"add {value!r} to {entry} of the entry it means (or a new entry)", level))
    if len(rows) > MAX_VALUES_LISTED:
        rest = rows[MAX_VALUES_LISTED:]
        report.findings.append(Finding(
            SOURCE, key, f"and {len(rest)} more unmapped values in {sum(n for _, n in rest)} incidents",
            f"add them to {entry}", level))
