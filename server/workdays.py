"""Working days on the mainland calendar: public holidays and the weekend make-up workdays.

The State Council publishes each year's holiday arrangement late in the previous year;
`chinese_calendar` carries those arrangements, so it knows only the years published
when the installed version was released. A date beyond them is refused with a clear
error rather than guessed from weekends, since a guess would be wrong around every
holiday.
"""

from __future__ import annotations

import datetime

import chinese_calendar

from server.errors import DomainError

# Mainland China keeps one offset all year (no summer time).
CHINA_TZ = datetime.timezone(datetime.timedelta(hours=8), "Asia/Shanghai")


class CalendarUnknown(DomainError):
    code = "CALENDAR_UNKNOWN"


def china_date(moment: datetime.datetime | datetime.date) -> datetime.date:
    """The calendar day in China: an aware datetime is converted, a naive one taken as is."""
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(CHINA_TZ)
        return moment.date()
    return moment


def is_working_day(day: datetime.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise CalendarUnknown(
            f"The working-day calendar for {day.year} is not known yet; "
            "update the chinese-calendar package once the year's holidays are published."
        ) from None


def add_working_days(start: datetime.datetime | datetime.date, n: int) -> datetime.date:
    """The n-th working day after `start` (the start day itself is not counted).

    A request made on Friday 27 September 2024 with n=2 is due on Monday 30 September:
    Sunday the 29th was a make-up workday for the National Day week.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day = china_date(start)
    is_working_day(day)  # fail early for an unknown year, even when n == 0
    remaining = n
    while remaining:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day
