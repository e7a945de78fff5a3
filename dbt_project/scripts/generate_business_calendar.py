"""Write seeds/business_calendar.csv: one row per day with Japan's public holidays.

Run once (and again when the range must grow or the government moves a holiday):

    uv run python dbt_project/scripts/generate_business_calendar.py

A business day is a weekday that is neither a Japanese public holiday (the ``holidays`` library,
names in English and Japanese) nor part of the company's year-end break (29 December to
3 January, the usual 年末年始休暇; pass ``--no-year-end-break`` to drop it). The chaser counts
reminder stages in these business days, so the seed is the single source of "is today a working
day" for dbt and for the chaser alike.
"""

from __future__ import annotations

import argparse
import csv
from datetime import date, timedelta
from pathlib import Path

import holidays

SEED = Path(__file__).resolve().parents[1] / "seeds" / "business_calendar.csv"
COLUMNS = (
    "calendar_date", "is_business_day", "is_weekend", "is_public_holiday", "is_company_holiday",
    "holiday_name", "holiday_name_ja",
)


def is_year_end_break(day: date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def rows(first_year: int, last_year: int, year_end_break: bool) -> list[dict[str, object]]:
    years = list(range(first_year, last_year + 1))
    names_en = holidays.Japan(years=years, language="en_US")
    names_ja = holidays.Japan(years=years, language="ja")
    out: list[dict[str, object]] = []
    day = date(first_year, 1, 1)
    while day.year <= last_year:
        weekend = day.weekday() >= 5
        public = day in names_en
        company = year_end_break and is_year_end_break(day) and not public
        name_en = names_en.get(day) or ("Year-end holidays" if company else "")
        name_ja = names_ja.get(day) or ("年末年始休暇" if company else "")
        out.append({
            "calendar_date": day.isoformat(),
            "is_business_day": str(not (weekend or public or company)).lower(),
            "is_weekend": str(weekend).lower(),
            "is_public_holiday": str(public).lower(),
            "is_company_holiday": str(company).lower(),
            "holiday_name": name_en,
            "holiday_name_ja": name_ja,
        })
        day += timedelta(days=1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-year", type=int, default=2018)
    parser.add_argument("--last-year", type=int, default=2035)
    parser.add_argument("--no-year-end-break", action="store_true")
    parser.add_argument("--out", type=Path, default=SEED)
    args = parser.parse_args()
    data = rows(args.first_year, args.last_year, not args.no_year_end_break)
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    print(f"wrote {len(data)} days to {args.out}")


if __name__ == "__main__":
    main()
