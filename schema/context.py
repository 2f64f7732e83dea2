"""The typed context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from server.services import Services


@dataclass
class Context:
    request: Request
    response: Response
    services: Services


Info: TypeAlias = strawberry.Info[Context, None]
