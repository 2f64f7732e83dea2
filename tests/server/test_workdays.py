from __future__ import annotations

import datetime

import pytest

from server.workdays import CalendarUnknown, add_working_days, china_date, is_working_day

D = datetime.date


def test_ordinary_week_skips_the_weekend() -> None:
    # Thursday 2025-03-06 + 2 working days: Friday, then Monday
    assert add_working_days(D(2025, 3, 6), 2) == D(2025, 3, 10)


def test_national_day_2024_with_make_up_sunday() -> None:
    # Sunday 29 September 2024 was a make-up workday; 1-7 October were holidays
    assert add_working_days(D(2024, 9, 27), 1) == D(2024, 9, 29)
    assert add_working_days(D(2024, 9, 27), 2) == D(2024, 9, 30)
    assert add_working_days(D(2024, 9, 30), 1) == D(2024, 10, 8)


def test_make_up_saturday_counts_as_a_workday() -> None:
    # Saturday 12 October 2024 and Saturday 11 October 2025 were make-up workdays
    assert is_working_day(D(2024, 10, 12)) and is_working_day(D(2025, 10, 11))
    assert add_working_days(D(2024, 10, 11), 1) == D(2024, 10, 12)
    assert add_working_days(D(2025, 10, 10), 2) == D(2025, 10, 13)


def test_national_day_and_mid_autumn_2025() -> None:
    # 2025: 1-8 October off (National Day with Mid-Autumn), Sunday 28 September worked
    assert add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)
    assert add_working_days(D(2025, 9, 30), 2) == D(2025, 10, 10)


def test_spring_festival_2026() -> None:
    # 2026: 15-23 February off; Saturday 14 and Saturday 28 February worked
    assert is_working_day(D(2026, 2, 14)) and not is_working_day(D(2026, 2, 16))
    assert add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)


def test_an_aware_time_is_read_as_a_china_date() -> None:
    # 17:00 UTC on Friday is 01:00 on Saturday in Beijing
    late = datetime.datetime(2025, 3, 7, 17, 0, tzinfo=datetime.UTC)
    assert china_date(late) == D(2025, 3, 8)
    assert add_working_days(late, 1) == D(2025, 3, 10)
    assert add_working_days(datetime.datetime(2025, 3, 7, 10, 0), 0) == D(2025, 3, 7)


def test_unknown_year_is_a_clear_error() -> None:
    with pytest.raises(CalendarUnknown) as e:
        add_working_days(D(2099, 1, 5), 2)
    assert e.value.code == "CALENDAR_UNKNOWN" and "2099" in e.value.message


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(D(2025, 3, 6), -1)
