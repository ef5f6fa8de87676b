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


def _spreads_anywhere(selection_set: SelectionSetNode) -> set[str]:
    """The fragments spread anywhere inside a selection set (nested fields included)."""
    found: set[str] = set()
    stack = [selection_set]
    while stack:
        for sel in stack.pop().selections:
            if isinstance(sel, FragmentSpreadNode):
                found.add(sel.name.value)
            elif isinstance(sel, FieldNode | InlineFragmentNode) and sel.selection_set:
                stack.append(sel.selection_set)
    return found


def _depth(node: SelectionSetNode | None, depths: dict[str, int]) -> int:
    """How many fields deep a selection set goes, fragments' depths looked up."""
    if node is None:
        return 0
    deepest = 0
    for sel in node.selections:
        if isinstance(sel, FieldNode):
            if sel.name.value.startswith("__"):
                continue
            deepest = max(deepest, 1 + _depth(sel.selection_set, depths))
        elif isinstance(sel, InlineFragmentNode):
            deepest = max(deepest, _depth(sel.selection_set, depths))
        elif isinstance(sel, FragmentSpreadNode):
            deepest = max(deepest, depths.get(sel.name.value, 0))
    return deepest


def fragment_depths(fragments: dict[str, FragmentDefinitionNode]) -> dict[str, int]:
    """Each fragment's depth, computed once (fragments it spreads first, iteratively, so
    neither a long chain nor a cycle, refused elsewhere, can exhaust the stack)."""
    depths: dict[str, int] = {}
    visiting: set[str] = set()
    for root in fragments:
        stack: list[tuple[str, bool]] = [(root, False)]
        while stack:
            name, children_done = stack.pop()
            if name in depths or name not in fragments:
                continue
            if not children_done:
                if name in visiting:
                    continue
                visiting.add(name)
                stack.append((name, True))
                stack.extend((s, False) for s in
                             _spreads_anywhere(fragments[name].selection_set)
                             if s not in depths)
                continue
            depths[name] = _depth(fragments[name].selection_set, depths)
    return depths


def depth_rule(max_depth: int) -> type[ASTValidationRule]:
    """Refuse operations nested deeper than ``max_depth`` fields; each fragment is
    measured once, however often it is spread."""

    class MaxDepthRule(ASTValidationRule):
        depths: dict[str, int] | None = None

        def enter_operation_definition(
            self, node: OperationDefinitionNode, *_args: Any
        ) -> None:
            if self.depths is None:
                self.depths = fragment_depths({
                    d.name.value: d for d in self.context.document.definitions
                    if isinstance(d, FragmentDefinitionNode)})
            depth = _depth(node.selection_set, self.depths)
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


_STRINGS_AND_COMMENTS = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"|#[^\n\r]*')
_BRACKETS = re.compile(r"[{}\[\]()]")


def longest_string(source: str) -> int:
    """The length of the longest string literal in a document (block strings included)."""
    return max((len(m.group()) for m in _STRINGS.finditer(source)), default=0)


_STRINGS = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"')


def too_deeply_nested(source: str, max_nesting: int) -> bool:
    """Whether braces, brackets or parentheses nest deeper than ``max_nesting`` outside
    strings and comments: graphql-core parses recursively, so a document nested a few
    thousand levels would exhaust the stack before any rule ran."""
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS_AND_COMMENTS.sub("", source)):
        if bracket in "{[(":
            depth += 1
            if depth > max_nesting:
                return True
        else:
            depth -= 1
    return False
