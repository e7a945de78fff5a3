"""The embedded sandbox: a deterministic synthetic organisation served by fake Jira, Notion and Slack."""

from .faults import Faults
from .model import Org
from .org import generate_org
from .runner import Sandbox, serve

__all__ = ["Faults", "Org", "Sandbox", "generate_org", "serve"]
