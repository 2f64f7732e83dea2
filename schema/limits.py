"""Depth and alias limits whose validation rules are built once.

Strawberry's QueryDepthLimiter and MaxAliasesLimiter create a new rule class per
instance, i.e. per request; the ValidationCache keys on the rules, so it would
never hit and every request would be validated again. Same rules, made once.
"""

from __future__ import annotations

import functools

from graphql import ValidationRule
from strawberry.extensions import AddValidationRules
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator


@functools.cache
def _depth_rule(max_depth: int) -> type[ValidationRule]:
    return depth_validator(max_depth, None, None)


@functools.cache
def _alias_rule(limit: int) -> type[ValidationRule]:
    return alias_validator(limit)


class DepthLimit(AddValidationRules):
    def __init__(self, max_depth: int) -> None:
        super().__init__([_depth_rule(max_depth)])


class AliasLimit(AddValidationRules):
    def __init__(self, max_aliases: int) -> None:
        super().__init__([_alias_rule(max_aliases)])
