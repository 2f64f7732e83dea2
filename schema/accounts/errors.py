"""Typed errors of accounts, identity and policies; each names the domain errors it
represents (schema/results.py maps them)."""

from __future__ import annotations

from typing import Self

import strawberry

from schema.results import Error
from server.accounts import errors as domain
from server.claims import errors as claim_errors
from server.errors import DomainError, ValidationFailed


@strawberry.type(description="One invalid input field.")
class FieldError:
    field: str = strawberry.field(
        description="The input field, as named in the input type (e.g. `mobile`)."
    )
    message: str = strawberry.field(description="What is wrong with it, for people.")
    code: str = strawberry.field(
        description="Stable code, e.g. INVALID_MOBILE, PASSWORD_TOO_SIMPLE."
    )


@strawberry.type(description="Some input fields are not valid (code VALIDATION_FAILED).")
class ValidationError(Error):
    field_errors: list[FieldError] = strawberry.field(description="Every invalid field.")

    represents = (ValidationFailed,)

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        assert isinstance(exc, ValidationFailed)
        return cls(
            message=exc.message,
            code=exc.code,
            field_errors=[
                FieldError(field=p.field, message=p.message, code=p.code) for p in exc.problems
            ],
        )


_RETRY_LATER = (
    domain.SmsTooSoon,
    domain.SmsRateLimited,
    domain.LoginLocked,
    claim_errors.UxiangRateLimited,
    claim_errors.DetailsChangeLimited,
    claim_errors.PreAuthLimited,
    claim_errors.PayeeLimited,
    claim_errors.ContactChangeLimited,
)


@strawberry.type(
    description="Wait before asking again (codes SMS_TOO_SOON, SMS_RATE_LIMITED, LOGIN_LOCKED, "
    "UXIANG_RATE_LIMITED, DETAILS_CHANGE_RATE_LIMITED, PRE_AUTH_RATE_LIMITED, PAYEE_RATE_LIMITED, "
    "CONTACT_CHANGE_RATE_LIMITED)."
)
class RetryLaterError(Error):
    retry_after_seconds: int = strawberry.field(
        description="Seconds until the next try can succeed."
    )

    represents = _RETRY_LATER

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        assert isinstance(exc, _RETRY_LATER)
        return cls(message=exc.message, code=exc.code, retry_after_seconds=exc.retry_after)


@strawberry.type(
    description="The SMS code is wrong, used, expired or ended after 5 wrong tries (SMS_CODE_INVALID)."
)
class SmsCodeInvalidError(Error):
    represents = (domain.SmsCodeInvalid,)


@strawberry.type(description="The SMS could not be sent (SMS_DELIVERY_FAILED).")
class SmsDeliveryFailedError(Error):
    represents = (domain.SmsDeliveryFailed,)


@strawberry.type(description="The mobile number already has an account (ACCOUNT_EXISTS).")
class AccountExistsError(Error):
    represents = (domain.AccountExists,)


@strawberry.type(description="Mobile number or password wrong; never tells which (LOGIN_FAILED).")
class LoginFailedError(Error):
    represents = (domain.LoginFailed,)


@strawberry.type(description="Real-name verification must be completed first (REAL_NAME_REQUIRED).")
class RealNameRequiredError(Error):
    represents = (domain.RealNameRequired,)


@strawberry.type(description="The account is verified already (ALREADY_VERIFIED).")
class AlreadyVerifiedError(Error):
    represents = (domain.AlreadyVerified,)


@strawberry.type(description="No insured member has this name and document (IDENTITY_NOT_INSURED).")
class IdentityNotInsuredError(Error):
    represents = (domain.IdentityNotInsured,)


@strawberry.type(description="The identity belongs to another account (IDENTITY_TAKEN).")
class IdentityTakenError(Error):
    represents = (domain.IdentityTaken,)


@strawberry.type(
    description="Too many real-name tries from this account, this address or on this identity; nothing was looked up (REAL_NAME_LOCKED)."
)
class RealNameLockedError(Error):
    retry_after_seconds: int = strawberry.field(
        description="Seconds until real-name verification can be tried again."
    )

    represents = (domain.RealNameLocked,)

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        assert isinstance(exc, domain.RealNameLocked)
        return cls(message=exc.message, code=exc.code, retry_after_seconds=exc.retry_after)


@strawberry.type(
    description="The document matched; a code was sent to the mobile number on the policy record. Call again with `smsCode` to complete (SECOND_FACTOR_REQUIRED)."
)
class SecondFactorRequiredError(Error):
    masked_mobile: str = strawberry.field(
        description="The record mobile the code went to, masked (138****0001)."
    )
    identity_taken: bool = strawberry.field(
        description="The identity is verified on another account now; the code moves it to this one (that account is told)."
    )
    resend_after_seconds: int = strawberry.field(
        description="Seconds before another code can be sent."
    )
    expires_in_seconds: int = strawberry.field(description="Seconds the code stays valid.")

    represents = (domain.SecondFactorRequired,)

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        assert isinstance(exc, domain.SecondFactorRequired)
        return cls(
            message=exc.message,
            code=exc.code,
            masked_mobile=exc.masked_mobile,
            identity_taken=exc.taken,
            resend_after_seconds=exc.resend_after,
            expires_in_seconds=exc.expires_in,
        )


@strawberry.type(
    description="No mobile number is on the policy record: verify through the service hotline (NO_MOBILE_ON_RECORD)."
)
class NoMobileOnRecordError(Error):
    represents = (domain.NoMobileOnRecord,)


@strawberry.type(
    description="The mobile number is not the one on the policy record (MOBILE_NOT_ON_RECORD)."
)
class MobileNotOnRecordError(Error):
    masked_mobile: str = strawberry.field(
        description="The mobile number on the policy record, masked (138****0001)."
    )

    represents = (domain.MobileNotOnRecord,)

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        assert isinstance(exc, domain.MobileNotOnRecord)
        return cls(message=exc.message, code=exc.code, masked_mobile=exc.masked_mobile)


@strawberry.type(description="WeChat did not accept the login code (WECHAT_CODE_INVALID).")
class WechatCodeInvalidError(Error):
    represents = (domain.WechatCodeInvalid,)


@strawberry.type(
    description="The identity or WeChat account is bound already; unbind first (WECHAT_ALREADY_BOUND)."
)
class WechatAlreadyBoundError(Error):
    represents = (domain.WechatAlreadyBound,)


@strawberry.type(description="No WeChat binding exists (WECHAT_NOT_BOUND).")
class WechatNotBoundError(Error):
    represents = (domain.WechatNotBound,)


@strawberry.type(description="No such policy among the member's (POLICY_NOT_FOUND).")
class PolicyNotFoundError(Error):
    represents = (domain.PolicyNotFound,)


@strawberry.type(description="No such facility, or not among the favourites (FACILITY_NOT_FOUND).")
class FacilityNotFoundError(Error):
    represents = (domain.FacilityNotFound,)
