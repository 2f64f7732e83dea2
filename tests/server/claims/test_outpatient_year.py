"""The administrator's outpatient totals: loaded per person and year, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scripts import load_outpatient_totals
from server.claims import outpatient_year
from server.claims.core import ClaimContext
from server.claims.models import OutpatientYearTotal
from server.errors import ValidationFailed


def test_totals_load_by_id_number_and_replace_a_years_figure(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    staff = demo.people["staff"]
    rows = [(2, staff.id_number.lower(), "2026", "8000.50"), (3, "110101199001011237", "2026", "1")]
    report = outpatient_year.load_totals(
        db_session, claims.vault, rows, source="医保办 2026-03", now=claims.now()
    )
    # the unknown person is skipped by line; no ID number is reported
    assert (report.loaded, report.unknown_lines) == (1, [3])
    row = db_session.scalar(select(OutpatientYearTotal))
    assert row is not None and (row.person_id, row.year, row.amount_fen) == (
        staff.person_id,
        2026,
        8000_50,
    )
    outpatient_year.load_totals(
        db_session,
        claims.vault,
        [(2, staff.id_number, "2026", "9000")],
        source="b",
        now=claims.now(),
    )
    assert [r.amount_fen for r in db_session.scalars(select(OutpatientYearTotal))] == [9000_00]


@pytest.mark.parametrize(
    ("row", "code"),
    [
        ((2, "x", "20x6", "1"), "INVALID_YEAR"),
        ((2, "x", "1999", "1"), "INVALID_YEAR"),
        ((2, "x", "2999", "1"), "INVALID_YEAR"),
        ((2, "x", "2026", "-1"), "INVALID_AMOUNT"),
        ((2, "x", "2026", "1.001"), "INVALID_AMOUNT"),
        ((2, "x", "2026", "lots"), "INVALID_AMOUNT"),
    ],
)
def test_one_bad_row_refuses_the_file(
    db_session: Session, claims: ClaimContext, demo: Any, row: tuple[int, str, str, str], code: str
) -> None:
    good = (3, demo.people["staff"].id_number, "2026", "100")
    with pytest.raises(ValidationFailed) as e:
        outpatient_year.load_totals(
            db_session, claims.vault, [good, row], source="s", now=claims.now()
        )
    assert [(p.field, p.code) for p in e.value.problems] == [("line 2", code)]
    assert db_session.scalar(select(OutpatientYearTotal)) is None


def test_the_command_refuses_a_file_with_the_wrong_header(tmp_path: Path, capsys: Any) -> None:
    f = tmp_path / "totals.csv"
    f.write_text("身份证,年,金额\n1,2026,5\n", encoding="utf-8")
    assert load_outpatient_totals.main([str(f), "--source", "x"]) == 1
    assert "id_number,year,amount" in capsys.readouterr().err
    assert load_outpatient_totals.main([str(tmp_path / "missing.csv"), "--source", "x"]) == 1
