"""Domain errors of accounts, identity, policies and favourites, each with a stable code."""

from __future__ import annotations

from server.errors import DomainError, RetryLater


class SmsTooSoon(RetryLater):
    code = "SMS_TOO_SOON"


class SmsRateLimited(RetryLater):
    code = "SMS_RATE_LIMITED"


class SmsCodeInvalid(DomainError):
    code = "SMS_CODE_INVALID"


class SmsDeliveryFailed(DomainError):
    code = "SMS_DELIVERY_FAILED"


class AccountExists(DomainError):
    code = "ACCOUNT_EXISTS"


class LoginFailed(DomainError):
    code = "LOGIN_FAILED"


class LoginLocked(RetryLater):
    code = "LOGIN_LOCKED"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class RealNameRequired(DomainError):
    code = "REAL_NAME_REQUIRED"


class AlreadyVerified(DomainError):
    code = "ALREADY_VERIFIED"


class IdentityNotInsured(DomainError):
    code = "IDENTITY_NOT_INSURED"


class IdentityTaken(DomainError):
    code = "IDENTITY_TAKEN"


class RealNameLocked(RetryLater):
    code = "REAL_NAME_LOCKED"


class SecondFactorRequired(DomainError):
    """The document matched; the mobile on the insurer's record must confirm it."""

    code = "SECOND_FACTOR_REQUIRED"

    def __init__(
        self,
        message: str,
        masked_mobile: str,
        *,
        taken: bool,
        resend_after: int,
        expires_in: int,
    ) -> None:
        super().__init__(message)
        self.masked_mobile = masked_mobile
        self.taken = taken  # the identity is held by another account; the code moves it
        self.resend_after = resend_after
        self.expires_in = expires_in


class NoMobileOnRecord(DomainError):
    """The insurer holds no mobile for the person: verification is for the hotline."""

    code = "NO_MOBILE_ON_RECORD"


class MobileNotOnRecord(DomainError):
    """The mobile given is not the one on the insurer's record (WeChat binding)."""

    code = "MOBILE_NOT_ON_RECORD"

    def __init__(self, message: str, masked_mobile: str) -> None:
        super().__init__(message)
        self.masked_mobile = masked_mobile


class WechatCodeInvalid(DomainError):
    code = "WECHAT_CODE_INVALID"


class WechatAlreadyBound(DomainError):
    code = "WECHAT_ALREADY_BOUND"


class WechatNotBound(DomainError):
    code = "WECHAT_NOT_BOUND"


class PolicyNotFound(DomainError):
    code = "POLICY_NOT_FOUND"


class FacilityNotFound(DomainError):
    code = "FACILITY_NOT_FOUND"
