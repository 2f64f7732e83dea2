"""Result unions: what a resolver answers, its success type or one of its typed errors.

A mutation (or a query that can be refused) is declared once:

    LogInPayload = ResultUnion(
        "LogInPayload", SignInSuccess, ValidationError, LoginFailedError, RetryLaterError,
        description="Result of logIn.",
    )

    @LogInPayload.resolver
    def log_in(info: Info, input: LogInInput) -> SignInSuccess:
        ...  # one service call; it raises domain errors

The resolver returns its success type; a domain error it raises becomes the declared
error type that represents it (`Error.represents`, `Error.from_domain`). A resolver may be
`async` (to run blocking work off the event loop). A root field refused by a limit
(`RetryLater`) is noted in the context, for the HTTP layer's 429. Authentication
failures and unreadable arguments stay top-level errors (`TOP_LEVEL`). Any other domain
error the union does not declare is a bug: `UndeclaredError` says which, and production
masks it as INTERNAL_SERVER_ERROR (schema/errors.py).
"""

from __future__ import annotations

import functools
import inspect
import itertools
import operator
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Generic, ParamSpec, Self, TypeVar, cast

import strawberry

from server.accounts.errors import Unauthenticated
from server.claims.errors import AdjusterUnauthenticated
from server.errors import DomainError, InvalidInput, RetryLater

P = ParamSpec("P")
S = TypeVar("S")

# errors about the request, not the operation: the caller is not signed in, or an argument
# is not one the API gave out (a forged cursor: BAD_USER_INPUT); top-level, never a member
TOP_LEVEL: tuple[type[DomainError], ...] = (Unauthenticated, AdjusterUnauthenticated, InvalidInput)


@strawberry.interface(
    description="Something the caller can fix or wait out; `code` is stable, `message` is for people."
)
class Error:
    message: str = strawberry.field(description="What went wrong, for people.")
    code: str = strawberry.field(description="Stable machine-readable code, e.g. SMS_CODE_INVALID.")

    # the domain errors (server/) this type answers for, subclasses included
    represents: ClassVar[tuple[type[DomainError], ...]] = ()

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        """This type for one of the domain errors it represents; types with more fields
        override it."""
        return cls(message=exc.message, code=exc.code)


class UndeclaredError(Exception):
    """A resolver raised a domain error its result union has no member for."""


def _check_errors(name: str, errors: tuple[type[Error], ...]) -> None:
    for error in errors:
        if not error.represents:
            raise TypeError(f"{name}: {error.__name__} represents no domain error.")
    for a, b in itertools.combinations(errors, 2):
        for x, y in itertools.product(a.represents, b.represents):
            if issubclass(x, y) or issubclass(y, x):
                raise TypeError(
                    f"{name}: {a.__name__} and {b.__name__} both represent "
                    f"{(x if issubclass(x, y) else y).__name__}; a domain error needs one answer."
                )


class ResultUnion(Generic[S]):
    """A GraphQL union of a success type and typed errors, and the resolvers that answer it."""

    def __init__(self, name: str, success: type[S], *errors: type[Error], description: str) -> None:
        _check_errors(name, errors)
        self.name = name
        self.success = success
        self.errors = errors
        members = functools.reduce(operator.or_, (success, *errors))
        # the annotation Strawberry reads: `Success | ErrorA | ...` named `name`
        self.annotation: Any = Annotated[members, strawberry.union(name, description=description)]

    def error_for(self, exc: DomainError) -> Error:
        """The declared error type's answer to `exc`; a `TOP_LEVEL` error is re-raised as is."""
        if isinstance(exc, TOP_LEVEL):
            raise exc
        for error in self.errors:
            if isinstance(exc, error.represents):
                return error.from_domain(exc)
        declared = ", ".join(e.__name__ for e in self.errors) or "none"
        raise UndeclaredError(
            f"{self.name} has no error type for {type(exc).__name__} ({exc.code}); its "
            f"errors: {declared}. Add the error type that represents it to the union, or "
            "stop the service raising it here."
        ) from exc

    def _answer(self, exc: DomainError, kwargs: dict[str, Any]) -> Error:
        if isinstance(exc, RetryLater):
            _note_retry(kwargs, exc.retry_after)
        return self.error_for(exc)

    def resolver(self, fn: Callable[P, Any]) -> Callable[P, Any]:
        """`fn` as the resolver of this union: its domain errors become typed errors."""
        resolve: Callable[P, Any]
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def resolve_async(*args: P.args, **kwargs: P.kwargs) -> S | Error:
                try:
                    return cast(S, await fn(*args, **kwargs))
                except DomainError as e:
                    return self._answer(e, kwargs)

            resolve = resolve_async
        else:

            @functools.wraps(fn)
            def resolve_sync(*args: P.args, **kwargs: P.kwargs) -> S | Error:
                try:
                    return cast(S, fn(*args, **kwargs))
                except DomainError as e:
                    return self._answer(e, kwargs)

            resolve = resolve_sync

        # Strawberry reads the signature: the arguments of `fn`, this union as the type
        signature = inspect.signature(fn).replace(return_annotation=self.annotation)
        cast(Any, resolve).__signature__ = signature
        return resolve


def _note_retry(kwargs: dict[str, Any], seconds: int) -> None:
    """Notes a root field refused by a limit in the request's context (see schema/context.py)."""
    for value in kwargs.values():
        if isinstance(value, strawberry.Info):
            waits = getattr(value.context, "retry_after", None)
            if isinstance(waits, dict) and value.path.prev is None:
                key = str(value.path.key)
                waits[key] = max(waits.get(key, 0), seconds)
            return
