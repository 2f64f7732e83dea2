"""Log-ins sent at once cannot outrun the throttle: each try is counted before its
password is checked, in one atomic step, on every limiter backend."""

from __future__ import annotations

from server.accounts.wiring import member_services
from server.errors import DomainError
from server.settings import Settings
from tests.db import FakeClock, run_together
from tests.limits import Store, fresh_mobile


def test_forty_wrong_passwords_at_once_get_three_checked(
    store: Store, member_settings: Settings, clock: FakeClock
) -> None:
    accounts = member_services(member_settings, clock=clock, limiter=store.limiter(clock)).accounts
    mobile = fresh_mobile()

    def log_in(i: int) -> str:
        with store.unit() as db:
            try:
                accounts.login(db, mobile=mobile, password="Wrong-2026!")
            except DomainError as e:  # answered, and committed, as the API does
                return e.code
            return "SIGNED_IN"

    results = run_together(40, log_in)
    # three free tries; the fourth would have to wait 30 s after the third
    assert sorted(results) == ["LOGIN_FAILED"] * 3 + ["LOGIN_LOCKED"] * 37
