"""dbt's unit tests run here, under the shipped configuration, not in a site's nightly build.

A unit test's fixture and expectation are computed by hand for the shipped configuration; a site with
other taxonomies or product sources builds with its own vars, under which an expectation need not
hold (``shinrai.transform.dbt.build`` leaves unit tests out). So ``make test`` is where they run.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from dbt_helpers import SandboxBuild

from shinrai.settings import PROJECT_ROOT
from shinrai.transform import dbt


def _declared() -> int:
    count = 0
    for path in (PROJECT_ROOT / "dbt_project" / "models").rglob("*.yml"):
        tree = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        count += len(tree.get("unit_tests") or [])
    return count


def test_every_dbt_unit_test_passes_under_the_shipped_configuration(sandbox_build: SandboxBuild) -> None:
    out = dbt.unit_tests(p=sandbox_build.paths)  # raises DbtFailed naming the failing test
    done = re.search(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", out)
    assert done, out[-2000:]
    passed, warned, errors, skipped = map(int, done.groups())
    # every declared unit test ran and passed (a selector that matched nothing would pass vacuously)
    assert (passed, errors, skipped) == (_declared(), 0, 0), out[-2000:]


def test_a_site_build_leaves_unit_tests_out(sandbox_build: SandboxBuild) -> None:
    out = dbt.build(select=["stg_config__severities"], p=sandbox_build.paths, as_of_date=sandbox_build.as_of_date)
    assert "unit_test" not in out and "PASS=" in out, out[-2000:]
