"""Canary credentials: values a leak scan can find, for running the sandbox in tests.

They are recognisable (``canary-<label>-<server>-<tag>``) and unique per label, and shaped like no
vendor's real tokens, so a secret scanner never takes them for a leaked Slack, Atlassian or
Notion credential. The sandbox accepts whatever it is given (``Sandbox(credentials=...)``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping


def _tag(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:10]


def canary_credentials(label: str) -> dict[str, dict[str, str]]:
    """Credentials for ``Sandbox(credentials=...)``, named after ``label`` (the test using them)."""
    return {
        "jira": {"email": f"{label}-canary@example.com", "token": f"canary-{label}-jira-{_tag(label, 'jira')}"},
        "notion": {"token": f"canary-{label}-notion-{_tag(label, 'notion')}"},
        "slack": {"token": f"canary-{label}-slack-{_tag(label, 'slack')}"},
    }


def leak_forms(credentials: Mapping[str, Mapping[str, str]], other_jira_tokens: Mapping[str, str] | None = None,
               extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every secret a leak scan looks for, by name: each token, and the Jira Basic auth header built
    from the e-mail and each Jira token (``other_jira_tokens``: e.g. a wrong one a test tried),
    the form an HTTP log would hold; ``extra`` secrets as given."""
    jira = credentials["jira"]
    tokens = {"jira": jira["token"], **(other_jira_tokens or {})}
    out = {f"{name} token": token for name, token in tokens.items()}
    out |= {"notion token": credentials["notion"]["token"], "slack token": credentials["slack"]["token"]}
    for name, token in tokens.items():
        out[f"{name} basic auth"] = base64.b64encode(f"{jira['email']}:{token}".encode()).decode()
    return out | dict(extra or {})
