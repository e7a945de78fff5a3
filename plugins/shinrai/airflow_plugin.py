"""shinrai's Airflow plugin, loaded through the ``airflow.plugins`` entry point (pyproject.toml):
not the plugins folder (Airflow scans it by bare file name; ``plugins/.airflowignore`` keeps
``shinrai`` out of it), nor the provider info's ``plugins`` (Airflow skips those while it loads
providers lazily, its default).

It registers the DAGs' timetable, which Airflow must know to store a DAG and read it back.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from shinrai.orchestration.schedule import ZonedCronTriggerTimetable


class ShinraiPlugin(AirflowPlugin):
    name = "shinrai"
    timetables = [ZonedCronTriggerTimetable]
