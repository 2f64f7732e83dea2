"""Domain errors of accounts, identity, policies and favourites, each with a stable code."""

from __future__ import annotations

from server.errors import DomainError


class _RetryAfter(DomainError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(int(retry_after), 1)


class SmsTooSoon(_RetryAfter):
    code = "SMS_TOO_SOON"


class SmsRateLimited(_RetryAfter):
    code = "SMS_RATE_LIMITED"


class SmsCodeInvalid(DomainError):
    code = "SMS_CODE_INVALID"


class SmsDeliveryFailed(DomainError):
    code = "SMS_DELIVERY_FAILED"


class AccountExists(DomainError):
    code = "ACCOUNT_EXISTS"


class LoginFailed(DomainError):
    code = "LOGIN_FAILED"


class LoginLocked(_RetryAfter):
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
