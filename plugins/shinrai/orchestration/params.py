"""DAG params with JSON-schema validation (checked when a run is triggered or a backfill created).

JSON schema cannot compare two params, so "window_end before window_start" is rejected by the
run's first task (:func:`shinrai.orchestration.plan.window_from_params`), before anything is read.
"""

from __future__ import annotations

from airflow.sdk import Param

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _date_param(description: str) -> Param:
    return Param(None, type=["null", "string"], format="date", pattern=DATE_PATTERN, description=description)


def nightly_params() -> dict[str, Param]:
    return {
        "full_refresh": Param(
            False, type="boolean",
            description="Re-extract everything and rebuild incremental models from scratch",
        ),
        "window_start": _date_param(
            "First day (YYYY-MM-DD, reporting time zone) to re-extract; with window_end. "
            "Backfill runs default to their own date"
        ),
        "window_end": _date_param("Last day (inclusive) to re-extract; not before window_start"),
        "confirm_mass_deletion": Param(
            False, type="boolean",
            description="Confirm, for this run only, that records really were deleted in bulk: a deletion "
                        "sweep may mark more than landing.max_deleted_share of a stream (or all of it) "
                        "deleted, and the quality gate publishes marts that dropped beyond "
                        "quality.max_volume_drop_share",
        ),
        "publish_docs": Param(
            True, type="boolean", description="Regenerate the dbt docs page when publishing (about a minute)",
        ),
    }


def chaser_params() -> dict[str, Param]:
    return {
        "dry_run": Param(False, type="boolean", description="Log what would be sent; send nothing"),
    }
