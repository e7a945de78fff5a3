"""Benchmark helper: copy a landing directory with every incident-side record repeated N times.

    uv run python dbt_project/scripts/amplify_landing.py SRC_LANDING_DIR DST_LANDING_DIR --factor 100

Each copy k gets its ids suffixed with k (two digits) and its issue numbers with `9` + k, so links,
incident channels and keys stay consistent within the copy and never collide with another copy or
the original (a sandbox at scale 1 numbers issues below 900): INC-123 becomes INC-123907 and
inc-123-payroll becomes inc-123907-payroll. Incidents, postmortems, actions, changelogs, risk
records, incident channels and their messages are repeated; releases, users and the release channel
are not (a company does not ship 100 times as many releases because it has 100 times the
incidents). From a scale-1 sandbox extraction, factor 100 gives ~40,000 incidents, ~127,000
actions and ~1.3M Slack messages: what "marts rebuild fast at 100x" is measured on.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import duckdb

REPEATED = {
    "jira": ("incidents", "postmortems", "actions", "changelogs"),
    "notion": ("risk_records",),
    "slack": ("channels", "messages"),
}
COLUMNS = ("source_id, source_key, source_updated_at, payload, payload_hash, first_extracted_at, extracted_at, "
           "run_id, is_deleted, deleted_at")


def _suffix_sql(source: str, stream: str) -> tuple[str, str, str]:
    """SQL for (source_id, source_key, payload) of copy k (k = lpad(k, 2, '0') as `kk`)."""
    if source == "jira":
        payload = (
            "regexp_replace(regexp_replace(payload::varchar, "
            "'\"id\":\"([0-9]+)\"', '\"id\":\"\\1' || kk || '\"', 'g'), "
            "'\"(key|issue_key)\":\"([A-Z]+-[0-9]+)\"', '\"\\1\":\"\\2' || '9' || kk || '\"', 'g')"
        )
        payload = f"regexp_replace({payload}, '\"issue_id\":\"([0-9]+)\"', '\"issue_id\":\"\\1' || kk || '\"', 'g')"
        return "source_id || kk", "source_key || '9' || kk", payload
    if source == "notion":
        payload = (
            "regexp_replace(regexp_replace(payload::varchar, '\"id\":\"' || source_id || '\"', "
            "'\"id\":\"' || source_id || kk || '\"'), '(INC-[0-9]+|[A-Z]{3}-[0-9]+)', '\\1' || '9' || kk, 'g')"
        )
        return "source_id || kk", "source_key", payload
    if stream == "channels":
        payload = (
            "regexp_replace(regexp_replace(payload::varchar, '\"id\":\"' || source_id || '\"', "
            "'\"id\":\"' || source_id || kk || '\"'), "
            "'\"name\":\"inc-([0-9]+)-', '\"name\":\"inc-\\1' || '9' || kk || '-')"
        )
        return "source_id || kk", "regexp_replace(source_key, '^inc-([0-9]+)-', 'inc-\\1' || '9' || kk || '-')", payload
    return (
        "split_part(source_id, ':', 1) || kk || ':' || split_part(source_id, ':', 2)",
        "source_key || kk",
        "regexp_replace(payload::varchar, '(INC-[0-9]+)', '\\1' || '9' || kk, 'g')",
    )


def amplify(src: Path, dst: Path, factor: int) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for source, streams in REPEATED.items():
        target = dst / f"{source}.duckdb"
        target.unlink(missing_ok=True)
        shutil.copyfile(src / f"{source}.duckdb", target)
        con = duckdb.connect(str(target))
        con.execute("set timezone = 'UTC'")
        for stream in streams:
            sid, skey, payload = _suffix_sql(source, stream)
            only_incident_channels = ""
            if stream == "channels":
                only_incident_channels = "where regexp_matches(source_key, '^inc-[0-9]+-')"
            if stream == "messages":
                only_incident_channels = (
                    "where source_key in (select source_id from raw.channels where regexp_matches(source_key, '^inc-'))"
                )
            con.execute(f"create temp table amplified as select * from raw.{stream} limit 0")
            con.execute(
                f"""
                insert into amplified
                select {sid}, {skey}, source_updated_at, ({payload})::json, payload_hash, first_extracted_at,
                       extracted_at, run_id, is_deleted, deleted_at
                from raw.{stream}, (select lpad(cast(k as varchar), 2, '0') as kk from range(1, {factor}) t(k))
                {only_incident_channels}
                """
            )
            con.execute(f"insert into raw.{stream} ({COLUMNS}) select {COLUMNS} from amplified")
            con.execute("drop table amplified")
            count = con.execute(f"select count(*) from raw.{stream}").fetchone()
            print(f"{source}.{stream}: {count[0] if count else 0} rows")
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--factor", type=int, default=100)
    args = parser.parse_args()
    if args.factor > 100:
        parser.error("--factor is at most 100 (two-digit suffixes)")
    amplify(args.src, args.dst, args.factor)


if __name__ == "__main__":
    main()
