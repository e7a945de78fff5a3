"""No code outside the sandbox and the configuration names a value of the sandbox organisation.

The pipeline must run on any organisation configured only through config/shinrai.yaml (issue 15):
a severity (SEV1), a release type (Regular, Hotfix), a calendar status ('released', リリース済み), a
project key (INC, PAY, ...) or the sandbox's time zone written into SQL, a DAG, a plugin or a Great
Expectations definition is a rule that silently fits only the sandbox. Such values live in
config/shinrai.yaml (documented defaults) and in the sandbox's own generator, nowhere else.
"""

from __future__ import annotations

import re
from pathlib import Path

from shinrai.settings import PROJECT_ROOT

SANDBOX_VALUES = re.compile(
    r"\bSEV[1-4]\b"                                   # severities
    r"|\bRegular\b|\bHotfix\b"                        # release types
    r"""|['"]released['"]|リリース済み"""              # calendar statuses that mean shipped
    r"|\b(?:INC|PAY|ATT|EXP|INV|HRC|ACC)\b"           # Jira project keys
    r"|Asia/Tokyo",                                   # the reporting time zone
    re.IGNORECASE * 0,  # case matters: `is_released`, `exp(` and `inc` are not sandbox values
)

# Known exceptions: (file, value) -> why. Empty: no code outside the sandbox and the configuration
# names a sandbox value. An entry that no longer matches fails too, so the list cannot go stale.
ALLOWED: dict[tuple[str, str], str] = {}


def _scanned() -> list[Path]:
    """dbt models and macros, the plugins (but the sandbox and the configuration), DAGs, GX."""
    root = PROJECT_ROOT
    plugins = [p for p in (root / "plugins").rglob("*.py")
               if "sandbox" not in p.relative_to(root).parts and p != root / "plugins" / "shinrai" / "config.py"]
    gx = [p for p in (root / "gx").rglob("*") if p.is_file() and "uncommitted" not in p.parts
          and p.suffix in (".json", ".yml", ".yaml", ".py", ".sql")]
    return sorted({root / "dbt_project" / "dbt_project.yml",
                   *(root / "dbt_project" / "models").rglob("*.sql"), *(root / "dbt_project" / "macros").rglob("*.sql"),
                   *plugins, *(root / "dags").rglob("*.py"), *gx})


def _hits() -> dict[tuple[str, str], list[str]]:
    hits: dict[tuple[str, str], list[str]] = {}
    for path in _scanned():
        rel = path.relative_to(PROJECT_ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for match in SANDBOX_VALUES.finditer(line):
                hits.setdefault((rel, match.group(0)), []).append(f"{rel}:{number}: {line.strip()}")
    return hits


def test_the_scan_covers_the_code() -> None:
    names = {p.relative_to(PROJECT_ROOT).as_posix() for p in _scanned()}
    assert "dbt_project/models/intermediate/reliability/int_releases_joined.sql" in names
    assert "dags/shinrai_nightly.py" in names and "plugins/shinrai/quality/gx.py" in names
    assert not any("/sandbox/" in n for n in names) and "plugins/shinrai/config.py" not in names


def test_the_pattern_finds_each_kind_of_value() -> None:
    line = "where severity = 'SEV2' or t = 'Hotfix' or s in ('released', 'リリース済み') or k = 'PAY' -- Asia/Tokyo"
    assert [m.group(0) for m in SANDBOX_VALUES.finditer(line)] == [
        "SEV2", "Hotfix", "'released'", "リリース済み", "PAY", "Asia/Tokyo"]
    assert not SANDBOX_VALUES.search("is_released_in_jira or exp(x) or '$.released' or increment")


def test_no_code_names_a_sandbox_value() -> None:
    hits = _hits()
    unexpected = [line for key, lines in hits.items() if key not in ALLOWED for line in lines]
    assert not unexpected, "sandbox values outside config/shinrai.yaml:\n" + "\n".join(unexpected)
    stale = [f"{key} ({helper})" for key, helper in ALLOWED.items() if key not in hits]
    assert not stale, "allow-list entries that no longer match (remove them):\n" + "\n".join(stale)
