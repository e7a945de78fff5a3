"""Static Jira site configuration: statuses, issue types, link types and the field catalogue."""

from __future__ import annotations

from .model import (
    CAUSE_CATEGORIES,
    DETECTION_ROUTES,
    DEVELOPMENT_CATEGORIES,
    PRODUCTS,
    SEVERITIES,
    UNKNOWN_CAUSES,
    UNKNOWN_DEVELOPMENT,
)
from .shapes import DEFAULT as DEFAULT_SHAPE
from .shapes import Shape

# status name -> (id, status category key)
STATUSES: dict[str, tuple[str, str]] = {
    "Open": ("10000", "new"),
    "Investigating": ("10001", "indeterminate"),
    "Mitigated": ("10002", "indeterminate"),
    "Closed": ("10003", "done"),
    "Draft": ("10010", "new"),
    "In Review": ("10011", "indeterminate"),
    "Published": ("10012", "done"),
    "To Do": ("10020", "new"),
    "In Progress": ("10021", "indeterminate"),
    "Done": ("10022", "done"),
    "Won't Do": ("10023", "done"),
}
# category key -> (id, name, colorName)
STATUS_CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}
ISSUE_TYPES: dict[str, tuple[str, str]] = {
    "incident": ("10100", "Incident"),
    "postmortem": ("10101", "Postmortem"),
    "action": ("10102", "Prevention Action"),
}
ISSUE_TYPE_BY_NAME: dict[str, str] = {name.lower(): kind for kind, (_, name) in ISSUE_TYPES.items()}
RESOLUTIONS: dict[str, str] = {"Done": "10000", "Won't Do": "10001"}
# link kind -> (id, name, inward, outward)
LINK_TYPES: dict[str, tuple[str, str, str, str]] = {
    "postmortem": ("10100", "Postmortem", "has postmortem", "is postmortem of"),
    "prevention": ("10101", "Prevention", "has prevention action", "prevents recurrence of"),
}
# the link types every Jira Cloud site starts with (GET /issueLinkType lists them with ours)
DEFAULT_LINK_TYPES: tuple[tuple[str, str, str, str], ...] = (
    ("10000", "Blocks", "is blocked by", "blocks"),
    ("10001", "Cloners", "is cloned by", "clones"),
    ("10002", "Duplicate", "is duplicated by", "duplicates"),
    ("10003", "Relates", "relates to", "relates to"),
)
PRIORITIES: dict[str, str] = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
SEVERITY_PRIORITY: dict[str | None, str] = {
    "SEV1": "Highest", "SEV2": "High", "SEV3": "Medium", "SEV4": "Low", None: "Medium",
}

# Custom fields (names exactly as config/shinrai.yaml jira.fields).
SEVERITY = "customfield_10040"
INTRODUCED_AT = "customfield_10041"
OCCURRED_AT = "customfield_10042"
DETECTED_AT = "customfield_10043"
ACKNOWLEDGED_AT = "customfield_10044"
MITIGATED_AT = "customfield_10045"
RECOVERED_AT = "customfield_10046"
PRODUCT = "customfield_10047"
DETECTION_ROUTE = "customfield_10048"
CAUSE_CATEGORY = "customfield_10049"
DEVELOPMENT_CATEGORY = "customfield_10050"
RANK = "customfield_10019"
START_DATE = "customfield_10015"

CUSTOM_TYPES = "com.atlassian.jira.plugin.system.customfieldtypes:"
SELECT = CUSTOM_TYPES + "select"
MULTISELECT = CUSTOM_TYPES + "multiselect"
DATETIME = CUSTOM_TYPES + "datetime"
DATEPICKER = CUSTOM_TYPES + "datepicker"
# The element type (/field ``schema.items``) of each array-valued custom field type, as Jira Cloud
# lists them: a field of one of these custom types has ``schema.type`` ``array``.
ARRAY_ITEMS: dict[str, str] = {
    CUSTOM_TYPES + "multiselect": "option",
    CUSTOM_TYPES + "multicheckboxes": "option",
    CUSTOM_TYPES + "labels": "string",
    CUSTOM_TYPES + "multiversion": "version",
    CUSTOM_TYPES + "multiuserpicker": "user",
}

# id -> (name, type, custom type, options or None)
CUSTOM_FIELDS: dict[str, tuple[str, str, str, tuple[str, ...] | None]] = {
    SEVERITY: ("Incident Level", "option", SELECT, SEVERITIES),
    INTRODUCED_AT: ("Introduced At", "datetime", DATETIME, None),
    OCCURRED_AT: ("Occurred At", "datetime", DATETIME, None),
    DETECTED_AT: ("Detected At", "datetime", DATETIME, None),
    ACKNOWLEDGED_AT: ("Acknowledged At", "datetime", DATETIME, None),
    MITIGATED_AT: ("Mitigated At", "datetime", DATETIME, None),
    RECOVERED_AT: ("Recovered At", "datetime", DATETIME, None),
    PRODUCT: ("Product", "option", SELECT, tuple(p.name for p in PRODUCTS)),
    DETECTION_ROUTE: ("Detection Route", "option", SELECT, DETECTION_ROUTES),
    CAUSE_CATEGORY: ("Cause Category", "option", SELECT, CAUSE_CATEGORIES + UNKNOWN_CAUSES),
    DEVELOPMENT_CATEGORY: (
        "Development Category", "option", SELECT, DEVELOPMENT_CATEGORIES + UNKNOWN_DEVELOPMENT,
    ),
    RANK: ("Rank", "any", "com.pyxis.greenhopper.jira:gh-lexo-rank", None),
    START_DATE: ("Start date", "date", DATEPICKER, None),
}
CUSTOM_FIELD_BY_NAME: dict[str, str] = {v[0]: k for k, v in CUSTOM_FIELDS.items()}


LIFECYCLE_ATTRS: dict[str, str] = {
    INTRODUCED_AT: "introduced", OCCURRED_AT: "occurred", DETECTED_AT: "detected",
    ACKNOWLEDGED_AT: "acknowledged", MITIGATED_AT: "mitigated", RECOVERED_AT: "recovered",
}


def shaped_custom_fields(shape: Shape = DEFAULT_SHAPE) -> dict[str, tuple[str, str, str, tuple[str, ...] | None]]:
    """``CUSTOM_FIELDS`` as a site of this shape has them (ids stay; names, types and options follow the
    shape): the severity select under its name and labels, the product a multi-select or gone (a
    component), a lifecycle field a date picker."""
    out = dict(CUSTOM_FIELDS)
    if shape is DEFAULT_SHAPE:
        return out
    out[SEVERITY] = (shape.severity_field, "option", SELECT,
                     tuple(shape.severity_label(code) or code for code in SEVERITIES))
    if shape.product_as == "components":
        del out[PRODUCT]
    else:
        name, _t, _c, options = CUSTOM_FIELDS[PRODUCT]
        out[PRODUCT] = ((shape.product_field, "array", MULTISELECT, options) if shape.product_as == "multiselect"
                        else (shape.product_field, "option", SELECT, options))
    for fid, attr in LIFECYCLE_ATTRS.items():
        if attr in shape.date_pickers:
            out[fid] = (CUSTOM_FIELDS[fid][0], "date", DATEPICKER, None)
    return out


def option_id(field_id: str, value: str) -> str:
    options = CUSTOM_FIELDS[field_id][3] or ()
    return str(10000 + int(field_id.rsplit("_", 1)[1]) % 1000 * 20 + options.index(value) + 100)


# System fields: id -> (name, schema or None, navigable, orderable, searchable, clauseNames)
SYSTEM_FIELDS: dict[str, tuple[str, dict | None, bool, bool, bool, tuple[str, ...]]] = {
    "issuekey": ("Key", None, True, False, False, ("id", "issue", "issuekey", "key")),
    "summary": ("Summary", {"type": "string", "system": "summary"}, True, True, True, ("summary",)),
    "description": (
        "Description", {"type": "string", "system": "description"}, True, True, True, ("description",),
    ),
    "issuetype": (
        "Issue Type", {"type": "issuetype", "system": "issuetype"}, True, True, True, ("issuetype", "type"),
    ),
    "project": ("Project", {"type": "project", "system": "project"}, True, False, True, ("project",)),
    "status": ("Status", {"type": "status", "system": "status"}, True, False, True, ("status",)),
    "priority": ("Priority", {"type": "priority", "system": "priority"}, True, True, True, ("priority",)),
    "resolution": (
        "Resolution", {"type": "resolution", "system": "resolution"}, True, True, True, ("resolution",),
    ),
    "assignee": ("Assignee", {"type": "user", "system": "assignee"}, True, True, True, ("assignee",)),
    "reporter": ("Reporter", {"type": "user", "system": "reporter"}, True, True, True, ("reporter",)),
    "creator": ("Creator", {"type": "user", "system": "creator"}, True, False, True, ("creator",)),
    "created": (
        "Created", {"type": "datetime", "system": "created"}, True, False, True, ("created", "createdDate"),
    ),
    "updated": (
        "Updated", {"type": "datetime", "system": "updated"}, True, False, True, ("updated", "updatedDate"),
    ),
    "resolutiondate": (
        "Resolved", {"type": "datetime", "system": "resolutiondate"}, True, False, True,
        ("resolutiondate", "resolved"),
    ),
    "statuscategorychangedate": (
        "Status Category Changed", {"type": "datetime", "system": "statuscategorychangedate"},
        True, False, True, ("statusCategoryChangedDate",),
    ),
    "duedate": ("Due date", {"type": "date", "system": "duedate"}, True, True, True, ("due", "duedate")),
    "labels": (
        "Labels", {"type": "array", "items": "string", "system": "labels"}, True, True, True, ("labels",),
    ),
    "components": (
        "Components", {"type": "array", "items": "component", "system": "components"},
        True, True, True, ("component",),
    ),
    "fixVersions": (
        "Fix versions", {"type": "array", "items": "version", "system": "fixVersions"},
        True, True, True, ("fixVersion",),
    ),
    "issuelinks": (
        "Linked Issues", {"type": "array", "items": "issuelinks", "system": "issuelinks"},
        True, True, False, (),
    ),
    "comment": ("Comment", {"type": "comments-page", "system": "comment"}, False, True, True, ("comment",)),
    "subtasks": (
        "Sub-tasks", {"type": "array", "items": "issuelinks", "system": "subtasks"}, True, False, False,
        ("subtasks",),
    ),
    "parent": ("Parent", None, True, False, True, ("parent",)),
}

ALL_FIELD_IDS: tuple[str, ...] = tuple(k for k in SYSTEM_FIELDS if k != "issuekey") + tuple(CUSTOM_FIELDS)
NAVIGABLE_FIELD_IDS: tuple[str, ...] = tuple(
    k for k in ALL_FIELD_IDS if k not in SYSTEM_FIELDS or SYSTEM_FIELDS[k][2]
)


def field_catalogue(shape: Shape = DEFAULT_SHAPE) -> list[dict]:
    """The plain array served by ``GET /rest/api/{2,3}/field`` (on a site of ``shape``)."""
    out: list[dict] = []
    for fid, (name, schema, nav, order, search, clauses) in SYSTEM_FIELDS.items():
        item: dict = {
            "id": fid, "key": fid, "name": name, "custom": False, "orderable": order,
            "navigable": nav, "searchable": search, "clauseNames": list(clauses),
        }
        if schema is not None:
            item["schema"] = dict(schema)
        out.append(item)
    for fid, (name, ftype, custom, _options) in shaped_custom_fields(shape).items():
        num = int(fid.rsplit("_", 1)[1])
        suffix = {"option": "[Dropdown]", "datetime": "[Time stamp]", "date": "[Date]"}.get(ftype, "")
        clauses = [f"cf[{num}]", name] + ([f"{name}{suffix}"] if suffix else [])
        schema = ({"type": "array", "items": ARRAY_ITEMS[custom]} if custom in ARRAY_ITEMS else {"type": ftype})
        out.append({
            "id": fid, "key": fid, "name": name, "custom": True, "orderable": True,
            "navigable": True, "searchable": True, "clauseNames": clauses,
            "schema": {**schema, "custom": custom, "customId": num},
        })
    return out
