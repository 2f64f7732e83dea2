"""The claim number made in SQL (submission's one statement on PostgreSQL) is the number
`next_claim_no` makes in Python, at every length of the day's counter."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.claims.core import claim_day, claim_no_in_sql
from server.claims.models import ClaimNumberSequence


@pytest.mark.parametrize("last", [0, 41, 99_998, 99_999, 123_455])
def test_the_number_made_in_sql_is_the_one_made_in_python(db_session: Session, last: int) -> None:
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("submission takes the number in SQL on PostgreSQL only")
    # given the day's counter at `last` (none yet when 0)
    now = datetime.datetime(2026, 3, 2, 17, 30, tzinfo=datetime.UTC)  # 3 March in China
    day = claim_day(now)
    assert day == "260303"
    if last:
        db_session.add(ClaimNumberSequence(day=day, last=last))
        db_session.flush()
    # when a number is made in SQL
    number, claim_no = claim_no_in_sql()
    made = db_session.execute(select(claim_no).add_cte(number), {"seq_day": day}).scalar_one()
    # then it is the next one, written as in Python (at least five digits)
    assert made == f"VSHH{day}{last + 1:05d}"
    assert db_session.get(ClaimNumberSequence, day).last == last + 1  # type: ignore[union-attr]
