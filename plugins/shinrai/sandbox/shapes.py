"""Sandbox shapes: the same organisation (same records, same instants) served in other representations.

A real site differs from the sandbox's default in *how* it records things, not in what happened: its
severity field has another name and Japanese levels, its product is a component, a lifecycle field is a
date picker, everything lives in one Jira project, Notion links are relations, release-freeze posts come
from an incoming webhook, some people hide their e-mail. A shape is such a set of choices; the renderers
consult ``org.shape`` and nothing else changes, so the pipeline run on any shape with that shape's config
(``plugins/shinrai/sandbox/shapes/<name>.yaml``) must publish the default shape's marts (the invariance test,
``tests/shapes/``). Only representation may differ here: never a record, an instant or a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SHAPES_DIR = Path(__file__).parent / "shapes"


@dataclass(frozen=True, slots=True)
class Shape:
    name: str = "default"
    # Jira ----------------------------------------------------------------------------------------
    severity_field: str = "Incident Level"
    severity_labels: tuple[str, ...] = ()  # label of SEV1..SEV4 in order; () = the codes themselves
    product_as: str = "select"  # select | components (system field) | multiselect (custom, one value)
    product_field: str = "Product"  # the custom field's name (select and multiselect)
    date_pickers: frozenset[str] = frozenset()  # lifecycle attributes served as a date picker (JST day)
    single_project: str | None = None  # every issue type in this one project (releases stay per product)
    hidden_email_every: int = 0  # every n-th person (with a unique display name) hides the Jira e-mail
    # Notion --------------------------------------------------------------------------------------
    related_as: str = "rich_text"  # rich_text (comma-separated keys) | relation (to the Jira issue pages)
    calendar_status_as: str = "select"  # select | status
    risk_product_as: str = "select"  # select | multi_select (one value)
    # Slack ---------------------------------------------------------------------------------------
    release_posts: str = "workflow"  # workflow (text) | webhook (attachments, generic fallback, no text)
    resume_names_incident: bool = True  # False: the resume post names only the product

    def severity_label(self, code: str | None) -> str | None:
        from .model import SEVERITIES

        if code is None or not self.severity_labels:
            return code
        return self.severity_labels[SEVERITIES.index(code)]

    @property
    def config_path(self) -> Path | None:
        """The user-style config that maps this shape (None for the default: config/shinrai.yaml)."""
        return None if self.name == "default" else SHAPES_DIR / f"{self.name}.yaml"


DEFAULT = Shape()

SHAPES: dict[str, Shape] = {
    "default": DEFAULT,
    # A Japanese site: levels in Japanese in a select of another name, product as a Jira component,
    # "Introduced At" a date picker, Notion links as relations and the calendar status a status,
    # release freezes from an incoming webhook whose resume names only the product, hidden e-mails.
    "kaisha": Shape(
        name="kaisha", severity_field="障害レベル", severity_labels=("レベル1", "レベル2", "レベル3", "レベル4"),
        product_as="components", date_pickers=frozenset({"introduced"}), hidden_email_every=5,
        related_as="relation", calendar_status_as="status", release_posts="webhook",
        resume_names_incident=False,
    ),
    # One Jira project for every issue type, "Level N" severities, product as a multi-select custom
    # field (one value per issue), the risk product a Notion multi-select.
    "multi": Shape(
        name="multi", severity_field="Severity", severity_labels=("Level 1", "Level 2", "Level 3", "Level 4"),
        product_as="multiselect", product_field="Products", single_project="OPS", hidden_email_every=7,
        risk_product_as="multi_select",
    ),
}


def get_shape(name: str | Shape | None) -> Shape:
    if isinstance(name, Shape):
        return name
    if name is None:
        return DEFAULT
    try:
        return SHAPES[name]
    except KeyError:
        raise ValueError(f"unknown sandbox shape {name!r}; expected one of {sorted(SHAPES)}") from None


# ---------------------------------------------------------------- the one change to records' names
ACTION_NUMBER_BASE = 10000  # single project: actions numbered after this (incidents keep their numbers)


def single_project_keys(org, project: str) -> dict[str, str]:  # noqa: ANN001 - Org, imported lazily
    """Move every issue into ``project``: incidents and postmortems keep their numbers (so Slack's
    ``inc-<n>-`` channels still name them), prevention actions follow at ``ACTION_NUMBER_BASE`` in
    creation (id) order. Keys are how Jira names a record, not the record: the invariance test maps
    them back. Rewrites every place the organisation holds a key; returns old key -> new key."""
    from .model import INCIDENT_PROJECT_KEY

    actions = sorted((i for i in org.issues if i.kind == "action"), key=lambda i: i.id)
    rank = {i.id: n for n, i in enumerate(actions, 1)}
    mapping: dict[str, str] = {}
    for i in org.issues:
        old = i.key
        if i.kind == "action":
            i.number = ACTION_NUMBER_BASE + rank[i.id]
        i.project = project
        mapping[old] = i.key
    for risk in org.risks:
        risk.related = tuple(mapping.get(k, k) for k in risk.related)
        if risk.backlog is not None:
            base, _, key = risk.backlog.rpartition("/")
            risk.backlog = f"{base}/{mapping.get(key, key)}"
    for ch in org.channels:
        if ch.issue_id is not None:
            old = f"{INCIDENT_PROJECT_KEY}-{org.by_id[ch.issue_id].number}"
            ch.topic = ch.topic.replace(old, mapping.get(old, old))
            ch.purpose = ch.purpose.replace(old, mapping.get(old, old))
    for entry in list(org.defects) + list(org.malformed):
        if isinstance(entry.get("key"), str) and entry["key"] in mapping:
            entry["key"] = mapping[entry["key"]]
    org.index()
    return mapping
