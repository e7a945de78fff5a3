"""The DAGs' time schedules: cron in the reporting time zone (config ``reporting.timezone``), and a
timetable that says so in the UI.

Airflow's ``CronTriggerTimetable`` shows its cron expression (``0 2 * * *``) and a description
(``At 02:00``) but not its zone, while the UI shows every time in UTC by default: a Tokyo user read
"0 2 * * *" next to a next run of 17:00 (UTC, for 02:00 at UTC+9). :class:`ZonedCronTriggerTimetable` is that timetable
with the zone in both texts (``0 2 * * * Europe/Paris``, ``At 02:00, Europe/Paris``); it is registered
with Airflow by shinrai's provider plugin (:mod:`shinrai.airflow_plugin`), so the DAG processor
can store it and the scheduler read it back. The zone is read from the configuration when the
DAG file is parsed (a file read, no network), so changing ``reporting.timezone`` moves the
schedules with the months and days the marts are bucketed in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.timetables.trigger import CronTriggerTimetable


def zone_name(zone: Any) -> str:
    """``Europe/Paris`` for a named zone, ``+09:00`` for a fixed offset."""
    return str(getattr(zone, "name", zone))


class ZonedCronTriggerTimetable(CronTriggerTimetable):
    """``CronTriggerTimetable`` whose summary and description name its time zone."""

    def __init__(self, cron: str, *, timezone: Any, **kwargs: Any) -> None:
        super().__init__(cron, timezone=timezone, **kwargs)
        zone = zone_name(self._timezone)
        self.description = f"{self.description}, {zone}" if self.description else zone

    @property
    def summary(self) -> str:
        return f"{self._expression} {zone_name(self._timezone)}"


def reporting_timezone() -> str:
    """The configured reporting time zone (validated by :mod:`shinrai.config`)."""
    from shinrai import config as config_mod

    return config_mod.load().timezone


def cron_schedule(expression: str, timezone: str | None = None) -> ZonedCronTriggerTimetable:
    """A run at each ``expression`` wall-clock time in the reporting zone (or ``timezone``)."""
    return ZonedCronTriggerTimetable(expression, timezone=timezone or reporting_timezone())


def start_date(timezone: str | None = None) -> datetime:
    """The DAGs' start date, 2026-01-01 00:00 in the reporting zone (catchup is off)."""
    import pendulum

    return pendulum.datetime(2026, 1, 1, tz=timezone or reporting_timezone())
