"""Validation rules that bound what one GraphQL request may ask for.

Each refusal is a GraphQL error with code ``LIMIT_EXCEEDED``, raised before
anything executes, so it costs microseconds.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

LIMIT = {"code": "LIMIT_EXCEEDED"}


def _depth(
    node: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str], limit: int,
) -> int:
    if node is None:
        return 0
    deepest = 0
    for sel in node.selections:
        if isinstance(sel, FieldNode):
            if sel.name.value.startswith("__"):
                continue
            sub = 1 + _depth(sel.selection_set, fragments, seen, limit)
        elif isinstance(sel, InlineFragmentNode):
            sub = _depth(sel.selection_set, fragments, seen, limit)
        elif isinstance(sel, FragmentSpreadNode):
            name = sel.name.value
            if name in seen or name not in fragments:
                continue
            sub = _depth(fragments[name].selection_set, fragments, seen | {name}, limit)
        else:  # pragma: no cover - graphql-core has no other selection kinds
            continue
        deepest = max(deepest, sub)
        if deepest > limit:
            break
    return deepest


def depth_rule(max_depth: int) -> type[ASTValidationRule]:
    """Refuse operations nested deeper than ``max_depth`` fields."""

    class MaxDepthRule(ASTValidationRule):
        def enter_operation_definition(
            self, node: OperationDefinitionNode, *_args: Any
        ) -> None:
            ctx = self.context
            fragments = {
                d.name.value: d for d in ctx.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            depth = _depth(node.selection_set, fragments, frozenset(), max_depth)
            if depth > max_depth:
                self.report_error(GraphQLError(
                    f"query is nested deeper than {max_depth} levels", node,
                    extensions={**LIMIT, "limit": max_depth},
                ))

    return MaxDepthRule


def alias_rule(max_aliases: int) -> type[ASTValidationRule]:
    """Refuse documents using more than ``max_aliases`` aliases."""

    class MaxAliasesRule(ASTValidationRule):
        count = 0

        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            if node.alias is not None:
                self.count += 1
                if self.count == max_aliases + 1:
                    self.report_error(GraphQLError(
                        f"query uses more than {max_aliases} aliases", node,
                        extensions={**LIMIT, "limit": max_aliases},
                    ))

    return MaxAliasesRule


# GraphQL's lexical tokens, roughly as graphql-core counts them (comments and commas
# are not tokens). Counting with one C-speed regex lets a document far over the limit be
# refused in microseconds; graphql-core's own count, while parsing, is ~50 us a token.
_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"|#[^\n\r]*|[A-Za-z_]\w*'
    r"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\.\.|[!$&()\[\]{}:=@|]"
)


def too_many_tokens(source: str, max_tokens: int) -> bool:
    """Whether ``source`` clearly holds more than ``max_tokens`` tokens."""
    if len(source) <= max_tokens:
        return False
    found = _TOKEN.findall(source)
    return len(found) > max_tokens and sum(
        1 for t in found if t[0] != "#") > max_tokens
