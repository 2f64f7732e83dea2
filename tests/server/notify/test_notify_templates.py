from __future__ import annotations

import datetime

import pytest

from server.errors import InvalidInput
from server.notify.templates import (
    HOTLINE,
    SupplementNotice,
    adjuster_supplement_arrived_email,
    supplement_deadline,
    supplement_email,
    supplement_link,
    supplement_sms,
)

TOKEN = "q7Hk2_Xw9-Lm4Np8Rs1t"
LINK = f"https://care.example/h5/supplement/{TOKEN}"


def notice(instructions: str = "请补充有效报销凭证及病历；", **kw: object) -> SupplementNotice:
    values: dict[str, object] = {
        "claimant_name": "李小明",
        "claim_no": "VSHH2409270012",
        "instructions": instructions,
        # requested on Friday 27 September 2024: Sunday the 29th was a make-up workday
        "deadline": supplement_deadline(datetime.date(2024, 9, 27)),
        "link": LINK,
    }
    values.update(kw)
    return SupplementNotice(**values)  # type: ignore[arg-type]


def test_deadline_is_two_working_days_on_the_mainland_calendar() -> None:
    assert supplement_deadline(datetime.date(2024, 9, 27)) == datetime.date(2024, 9, 30)
    # 16:30 UTC on Monday 30 September is already Tuesday 1 October (a holiday) in Beijing
    late = datetime.datetime(2024, 9, 30, 16, 30, tzinfo=datetime.UTC)
    assert supplement_deadline(late) == datetime.date(2024, 10, 9)


def test_link_carries_only_the_opaque_token() -> None:
    assert supplement_link("https://care.example/", TOKEN) == LINK
    for bad in ["short", "has/slash-and-more-chars", "13612341560?x=张三abcdefgh", ""]:
        with pytest.raises(InvalidInput) as e:
            supplement_link("https://care.example", bad)
        assert e.value.field == "token"


def test_sms_follows_the_seed_template() -> None:
    text = supplement_sms(notice())
    assert text.startswith("[太平洋保险]尊敬的李小明，您递交的赔案号为VSHH2409270012的保险理赔")
    assert "经核实以下理赔资料缺失或存在问题：请补充有效报销凭证及病历。" in text
    assert "2个工作日内（截至2024年9月30日）" in text
    assert LINK in text and f"客服热线{HOTLINE}" in text and text.endswith("回0000退订短信")
    # a long message, but within a few concatenated SMS segments (70 characters each)
    assert len(text) <= 280


def test_sms_cuts_long_instructions_to_stay_short() -> None:
    long = "请补充：" + "门诊病历首页及费用明细清单，" * 20
    text = supplement_sms(notice(long))
    assert len(text) <= 280 and "…" in text
    # the link and the hotline survive the cut
    assert LINK in text and HOTLINE in text
    # the e-mail carries the instructions in full
    assert long.strip() in supplement_email(notice(long)).body


def test_email_follows_the_seed_template() -> None:
    mail = supplement_email(notice(claim_type="门诊"))
    assert mail.subject == "【太平洋保险】理赔补充材料通知（赔案号：VSHH2409270012）"
    assert "李小明" not in mail.subject
    body = mail.body
    assert body.startswith("尊敬的李小明先生/女士：")
    assert "您递交的门诊理赔申请（VSHH2409270012）已在我司理赔审理中" in body
    assert "请补充有效报销凭证及病历；" in body
    assert "2个工作日内（截至2024年9月30日）" in body
    assert LINK in body and f"请致电{HOTLINE}" in body and "本邮件为系统邮件，请勿回复。" in body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"claimant_name": " "}, "claimant_name"),
        ({"claim_no": "VSHH 1; DROP"}, "claim_no"),
        ({"instructions": "  "}, "instructions"),
    ],
)
def test_incomplete_notices_are_refused(change: dict[str, str], field: str) -> None:
    n = notice(**change)
    for render in (supplement_sms, supplement_email):
        with pytest.raises(InvalidInput) as e:
            render(n)  # type: ignore[operator]
        assert e.value.field == field


def test_adjuster_notice_names_only_the_claim() -> None:
    at = datetime.datetime(2024, 9, 30, 2, 15, tzinfo=datetime.UTC)
    mail = adjuster_supplement_arrived_email(
        "VSHH2409270012", received_at=at, link="https://care.example/admin/claims/VSHH2409270012"
    )
    assert mail.subject == "赔案 VSHH2409270012 已收到补充材料"
    assert "2024-09-30 10:15（北京时间）" in mail.body
    assert "https://care.example/admin/claims/VSHH2409270012" in mail.body
    with pytest.raises(InvalidInput):
        adjuster_supplement_arrived_email("李小明", received_at=at)
