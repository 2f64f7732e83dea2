"""Typed mutation errors: every payload union's error members implement `Error`."""

from __future__ import annotations

import strawberry

from server.accounts import errors as domain
from server.errors import DomainError


@strawberry.interface(
    description="Something the caller can fix or wait out; `code` is stable, `message` is for people."
)
class Error:
    message: str = strawberry.field(description="What went wrong, for people.")
    code: str = strawberry.field(description="Stable machine-readable code, e.g. SMS_CODE_INVALID.")


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


@strawberry.type(
    description="Wait before asking again (codes SMS_TOO_SOON, SMS_RATE_LIMITED, LOGIN_LOCKED)."
)
class RetryLaterError(Error):
    retry_after_seconds: int = strawberry.field(
        description="Seconds until the next try can succeed."
    )


@strawberry.type(
    description="The SMS code is wrong, used, expired or ended after 5 wrong tries (SMS_CODE_INVALID)."
)
class SmsCodeInvalidError(Error):
    pass


@strawberry.type(description="The SMS could not be sent (SMS_DELIVERY_FAILED).")
class SmsDeliveryFailedError(Error):
    pass


@strawberry.type(description="The mobile number already has an account (ACCOUNT_EXISTS).")
class AccountExistsError(Error):
    pass


@strawberry.type(description="Mobile number or password wrong; never tells which (LOGIN_FAILED).")
class LoginFailedError(Error):
    pass


@strawberry.type(description="Real-name verification must be completed first (REAL_NAME_REQUIRED).")
class RealNameRequiredError(Error):
    pass


@strawberry.type(description="The account is verified already (ALREADY_VERIFIED).")
class AlreadyVerifiedError(Error):
    pass


@strawberry.type(description="No insured member has this name and document (IDENTITY_NOT_INSURED).")
class IdentityNotInsuredError(Error):
    pass


@strawberry.type(description="The identity belongs to another account (IDENTITY_TAKEN).")
class IdentityTakenError(Error):
    pass


@strawberry.type(
    description="Too many real-name tries from this account, this address or on this identity; nothing was looked up (REAL_NAME_LOCKED)."
)
class RealNameLockedError(Error):
    retry_after_seconds: int = strawberry.field(
        description="Seconds until real-name verification can be tried again."
    )


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


@strawberry.type(
    description="No mobile number is on the policy record: verify through the service hotline (NO_MOBILE_ON_RECORD)."
)
class NoMobileOnRecordError(Error):
    pass


@strawberry.type(
    description="The mobile number is not the one on the policy record (MOBILE_NOT_ON_RECORD)."
)
class MobileNotOnRecordError(Error):
    masked_mobile: str = strawberry.field(
        description="The mobile number on the policy record, masked (138****0001)."
    )


@strawberry.type(description="WeChat did not accept the login code (WECHAT_CODE_INVALID).")
class WechatCodeInvalidError(Error):
    pass


@strawberry.type(
    description="The identity or WeChat account is bound already; unbind first (WECHAT_ALREADY_BOUND)."
)
class WechatAlreadyBoundError(Error):
    pass


@strawberry.type(description="No WeChat binding exists (WECHAT_NOT_BOUND).")
class WechatNotBoundError(Error):
    pass


@strawberry.type(description="No such policy among the member's (POLICY_NOT_FOUND).")
class PolicyNotFoundError(Error):
    pass


@strawberry.type(description="No such facility, or not among the favourites (FACILITY_NOT_FOUND).")
class FacilityNotFoundError(Error):
    pass


_BY_CODE: dict[str, type] = {
    domain.SmsCodeInvalid.code: SmsCodeInvalidError,
    domain.SmsDeliveryFailed.code: SmsDeliveryFailedError,
    domain.AccountExists.code: AccountExistsError,
    domain.LoginFailed.code: LoginFailedError,
    domain.RealNameRequired.code: RealNameRequiredError,
    domain.AlreadyVerified.code: AlreadyVerifiedError,
    domain.IdentityNotInsured.code: IdentityNotInsuredError,
    domain.IdentityTaken.code: IdentityTakenError,
    domain.NoMobileOnRecord.code: NoMobileOnRecordError,
    domain.WechatCodeInvalid.code: WechatCodeInvalidError,
    domain.WechatAlreadyBound.code: WechatAlreadyBoundError,
    domain.WechatNotBound.code: WechatNotBoundError,
    domain.PolicyNotFound.code: PolicyNotFoundError,
    domain.FacilityNotFound.code: FacilityNotFoundError,
}


def error_payload(exc: DomainError, allowed: tuple[type, ...]) -> object:
    """The typed error for a domain error; anything the payload cannot carry is re-raised."""
    if isinstance(exc, domain.Unauthenticated):
        raise exc  # a top-level UNAUTHENTICATED error, not a payload
    if isinstance(exc, domain.ValidationFailed):
        out: object = ValidationError(
            message=exc.message,
            code=exc.code,
            field_errors=[
                FieldError(field=p.field, message=p.message, code=p.code) for p in exc.problems
            ],
        )
    elif isinstance(exc, domain.SmsTooSoon | domain.SmsRateLimited | domain.LoginLocked):
        out = RetryLaterError(
            message=exc.message, code=exc.code, retry_after_seconds=exc.retry_after
        )
    elif isinstance(exc, domain.RealNameLocked):
        out = RealNameLockedError(
            message=exc.message, code=exc.code, retry_after_seconds=exc.retry_after
        )
    elif isinstance(exc, domain.SecondFactorRequired):
        out = SecondFactorRequiredError(
            message=exc.message,
            code=exc.code,
            masked_mobile=exc.masked_mobile,
            identity_taken=exc.taken,
            resend_after_seconds=exc.resend_after,
            expires_in_seconds=exc.expires_in,
        )
    elif isinstance(exc, domain.MobileNotOnRecord):
        out = MobileNotOnRecordError(
            message=exc.message, code=exc.code, masked_mobile=exc.masked_mobile
        )
    elif exc.code in _BY_CODE:
        out = _BY_CODE[exc.code](message=exc.message, code=exc.code)
    else:
        raise exc
    if not isinstance(out, allowed):
        raise exc
    return out
