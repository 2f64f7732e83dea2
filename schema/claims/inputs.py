"""Inputs of the claimant's mutations. Ids are global ids (`Claim.id`, `Policy.id`,
`ClaimDocumentFile.id`); amounts are Decimal yuan with at most 2 decimals, best sent as
strings ("200.50")."""

from __future__ import annotations

import datetime
from decimal import Decimal

import strawberry

from schema.accounts.inputs import IdType
from schema.claims.common import IncidentType
from schema.policies.types import Relation


@strawberry.input(description="Start a claim (申请自助理赔).")
class StartClaimInput:
    policy_id: strawberry.ID = strawberry.field(
        description="The policy of the insured person: the member's own, or a minor child's."
    )
    notice_accepted: bool = strawberry.field(
        description="The claimant ticked 《理赔申请须知》 (the claim notice)."
    )


@strawberry.input(description="Contact details asked before the first claim (补充个人信息).")
class SaveClaimContactInput:
    address: str = strawberry.field(description="联系地址, up to 200 characters.")
    email: str = strawberry.field(description="邮箱.")


@strawberry.input(description="基本信息 of a draft.")
class UpdateClaimBasicsInput:
    claim_id: strawberry.ID = strawberry.field(description="The draft.")
    address: str = strawberry.field(description="地址, up to 200 characters.")
    incident_type: IncidentType = strawberry.field(description="出险类型.")  # type: ignore[valid-type]
    incident_date: datetime.date = strawberry.field(
        description="发生日期: within the policy's cover, not in the future."
    )
    claim_type: str = strawberry.field(description="索赔类型: a code from `claimRules`.")
    relationship: Relation | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="与出险人关系: required when claiming for a child (CHILD).",
    )
    facility_name: str | None = strawberry.field(
        default=None,
        description="就诊医院; required for claim types that exclude some hospitals.",
    )
    facility_id: str | None = strawberry.field(
        default=None,
        description="The hospital's directory facility id, for plans that name their "
        "designated hospitals by id (the university plan's outpatient claims once its list "
        "is loaded: a typed name is then refused, FACILITY_ID_REQUIRED).",
    )


@strawberry.input(description="收款账户, asked on the first claim only (reused after).")
class PayeeInput:
    bank_name: str = strawberry.field(description="开户行.")
    account_no: str = strawberry.field(description="银行账号, 12 to 30 digits.")


@strawberry.input(description="理赔金额 of a draft.")
class UpdateClaimAmountInput:
    claim_id: strawberry.ID = strawberry.field(description="The draft.")
    invoice_total: Decimal = strawberry.field(
        description="发票票面累计金额: the sum of the invoices, yuan."
    )
    invoice_numbers: list[str] = strawberry.field(
        default_factory=list, description="Invoice numbers (up to 50), for duplicate checks."
    )
    province: str | None = strawberry.field(
        default=None, description="省: only where `claimRules.regionRequired`."
    )
    city: str | None = strawberry.field(
        default=None, description="市: only where `claimRules.regionRequired`."
    )
    other_compensation: Decimal = strawberry.field(
        default=Decimal(0), description="已获赔偿或补偿, yuan (0 when none)."
    )
    payee: PayeeInput | None = strawberry.field(
        default=None,
        description="The account to pay: required on the first claim; when null the one on "
        "file is used.",
    )
    payee_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A saved payee (`viewer.payees`) to pay instead; not with `payee`.",
    )


@strawberry.input(description="Take a file out of a draft, or of a supplement not yet sent.")
class RemoveClaimDocumentInput:
    document_id: strawberry.ID = strawberry.field(description="`ClaimDocumentFile.id`.")


@strawberry.input(description="A draft's id.")
class ClaimIdInput:
    claim_id: strawberry.ID = strawberry.field(description="`Claim.id`.")


@strawberry.input(description="Submit a draft with the SMS code.")
class SubmitClaimInput:
    claim_id: strawberry.ID = strawberry.field(description="The draft.")
    sms_code: str = strawberry.field(description="The 6-digit code (valid 5 minutes).")
    client_key: str = strawberry.field(
        description="A key the client makes once per submission (8 to 64 of A-Z a-z 0-9 - _, "
        "e.g. a UUID) and sends again on retry: the same key returns the same claim."
    )
    declaration_version: str | None = strawberry.field(
        default=None,
        description="The version of the plan's authorisation and declaration (授权与声明, "
        "`ClaimRules.declaration`) the claimant read and accepted; required where the plan "
        "has one (DECLARATION_REQUIRED otherwise).",
    )


@strawberry.input(description="Withdraw a claim still being handled (撤案).")
class WithdrawClaimInput:
    claim_id: strawberry.ID = strawberry.field(description="The claim.")
    reason: str = strawberry.field(default="", description="Why, up to 500 characters.")


@strawberry.input(description="Resubmit a rejected claim or one with problem images (重新申报).")
class ResubmitClaimInput:
    claim_id: strawberry.ID = strawberry.field(description="The claim to resubmit.")
    notice_accepted: bool = strawberry.field(description="The claim notice is accepted again.")


@strawberry.input(description="Send the files added for a supplement request (补材).")
class SubmitClaimSupplementInput:
    claim_id: strawberry.ID = strawberry.field(description="The claim waiting for documents.")
    remark: str = strawberry.field(default="", description="备注, up to 500 characters.")


@strawberry.input(description="收款人 details (seed 000 §7.1); every field is checked at once.")
class PayeeDetailsInput:
    relationship: Relation = strawberry.field(  # type: ignore[valid-type]
        description="收款人关系 to the member (SELF for their own account)."
    )
    holder_name: str = strawberry.field(description="户名: the account holder, as on the ID.")
    id_type: IdType = strawberry.field(description="收款人证件类型.")  # type: ignore[valid-type]
    id_number: str = strawberry.field(description="收款人证件号.")
    province_code: str = strawberry.field(
        description="银行所在地: a province's code from `administrativeDivisions`."
    )
    city_code: str = strawberry.field(description="银行所在地: a city of that province.")
    bank_code: str = strawberry.field(description="银行名称: a code from `payeeBanks`.")
    account_no: str = strawberry.field(
        description="账号: 16-19 digits; at banks with `checkDigit`, the last is a Luhn check digit."
    )
    insurance_no: str | None = strawberry.field(
        default=None, description="社保/医保号: up to 30 letters and digits."
    )


@strawberry.input(description="Save a new payee with a SAVE_PAYEE SMS code.")
class AddPayeeInput:
    payee: PayeeDetailsInput = strawberry.field(description="The payee.")
    sms_code: str = strawberry.field(
        description="The code sent by sendSmsCode(purpose: SAVE_PAYEE) to the member's mobile."
    )


@strawberry.input(description="Change a payee (all its details) with a SAVE_PAYEE SMS code.")
class UpdatePayeeInput:
    payee_id: strawberry.ID = strawberry.field(description="`Payee.id`.")
    payee: PayeeDetailsInput = strawberry.field(description="The payee as it is to be.")
    sms_code: str = strawberry.field(description="The code sent for purpose SAVE_PAYEE.")


@strawberry.input(description="Take a payee off the member's list.")
class RemovePayeeInput:
    payee_id: strawberry.ID = strawberry.field(description="`Payee.id`.")


@strawberry.input(description="客户联系信息变更 (自助保全): applied at once.")
class ChangeContactDetailsInput:
    province_code: str = strawberry.field(description="省: a code from `administrativeDivisions`.")
    city_code: str = strawberry.field(description="市: a city of that province.")
    district_code: str | None = strawberry.field(
        default=None, description="区: a district of that city (null where the city has none)."
    )
    address: str = strawberry.field(description="详细地址: the street address, up to 200.")
    email: str = strawberry.field(description="电子邮箱.")
    sms_code: str = strawberry.field(
        description="The code sent by sendSmsCode(purpose: CHANGE_CONTACT) to the member's mobile."
    )


@strawberry.input(description="申请人 when it is not the insured person (预先授权).")
class PreAuthApplicantInput:
    name: str = strawberry.field(description="申请人姓名.")
    relation: Relation = strawberry.field(description="与被保人关系 (not SELF).")  # type: ignore[valid-type]
    mobile: str = strawberry.field(description="手机号.")
    email: str = strawberry.field(description="邮箱.")
    id_type: IdType = strawberry.field(description="证件类型.")  # type: ignore[valid-type]
    id_number: str = strawberry.field(description="证件号码.")
    address: str = strawberry.field(description="联系地址.")


@strawberry.input(description="预先授权 steps 2-4: a draft; files are uploaded next.")
class StartPreAuthorisationInput:
    notice_accepted: bool = strawberry.field(description="The member ticked 《申请提示》.")
    notice_version: str | None = strawberry.field(
        default=None,
        description="The version of 《申请提示》 read (preAuthorisations.notice.version); "
        "an older one is refused (NOTICE_OUTDATED).",
    )
    policy_id: strawberry.ID = strawberry.field(description="A high-end policy of the member's.")
    applicant: PreAuthApplicantInput | None = strawberry.field(
        default=None, description="Null when the insured applies; else the other applicant."
    )
    facility_id: str = strawberry.field(description="医疗机构: the directory facility's id.")
    visit_date: datetime.date = strawberry.field(description="就诊时间: today or within 180 days.")
    items: str = strawberry.field(description="就诊项目, up to 500 characters.")


@strawberry.input(description="A pre-authorisation's id.")
class PreAuthIdInput:
    pre_auth_id: strawberry.ID = strawberry.field(description="`PreAuthorisation.id`.")


@strawberry.input(description="Submit a pre-authorisation with its SMS code.")
class SubmitPreAuthorisationInput:
    pre_auth_id: strawberry.ID = strawberry.field(description="`PreAuthorisation.id`.")
    sms_code: str = strawberry.field(description="The code sendPreAuthorisationCode sent.")


@strawberry.input(description="客户信息变更: the new personal details, all four as they should be.")
class StartPersonalDetailsChangeInput:
    name: str = strawberry.field(description="姓名, as on the document.")
    id_type: IdType = strawberry.field(description="证件类型.")  # type: ignore[valid-type]
    id_number: str = strawberry.field(
        description="证件号码 (a resident ID keeps the birth date on the policy)."
    )
    mobile: str = strawberry.field(description="手机号码: the log-in and the record mobile.")


@strawberry.input(description="A 自助保全 request by its id.")
class ServiceRequestIdInput:
    request_id: strawberry.ID = strawberry.field(description="`ServiceRequest.id`.")


@strawberry.input(description="Send a change of personal details to the back office.")
class SubmitPersonalDetailsChangeInput:
    request_id: strawberry.ID = strawberry.field(description="`ServiceRequest.id`.")
    sms_code: str = strawberry.field(
        description="The code sendPersonalDetailsCodes sent to the current mobile."
    )
    new_mobile_sms_code: str | None = strawberry.field(
        default=None,
        description="The code sent to the new mobile; required when the mobile changes.",
    )
