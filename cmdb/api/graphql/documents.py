"""GraphQL documents parsed and validated once, then reused: a bounded cache by query text.

Clients send the same few query texts again and again; parsing and validating them
took longer than running a small query. :class:`Documents` keeps the outcome (the
document, or the errors that refuse it) of the most recently used texts, bounded in
entries and in total characters so that unique texts sent on purpose cannot grow it.

Preparing a text runs, cheapest first, each refusal stopping the rest: the token
count (a regex), the bracket nesting (graphql-core parses recursively), parsing, the
shape bounds of ``cost.check_shape`` (before validation, whose overlap rule is
quadratic), then validation with the CMDB's rules (depth, aliases, introspection).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse, validate

from cmdb.api.graphql.cost import check_shape
from cmdb.api.web.jsonsafe import MAX_STRING
from cmdb.api.web.limits import longest_string, too_deeply_nested, too_many_tokens

LIMIT_CODE = "LIMIT_EXCEEDED"
FRAGMENT_NESTING = 200  # graphql-core's MAX_NESTING_DEPTH
MAX_ENTRIES = 512
MAX_CHARS = 2_000_000
"""Query characters the cache may hold in all (an AST takes ~30 times its text)."""


@dataclass(frozen=True)
class Prepared:
    """A query text's document, or why it is refused (never both)."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...] = ()


@dataclass(frozen=True)
class Bounds:
    max_tokens: int
    max_nesting: int
    max_repeats: int
    max_selections: int


class Documents:
    """Prepared documents by query text, least recently used dropped first."""

    def __init__(self, schema: GraphQLSchema, rules: tuple[type[ASTValidationRule], ...],
                 bounds: Bounds, max_entries: int = MAX_ENTRIES,
                 max_chars: int = MAX_CHARS) -> None:
        self.schema, self.rules, self.bounds = schema, rules, bounds
        self.max_entries, self.max_chars = max_entries, max_chars
        self._cache: OrderedDict[str, Prepared] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def prepare(self, query: str) -> Prepared:
        with self._lock:
            found = self._cache.get(query)
            if found is not None:
                self._cache.move_to_end(query)
                self.hits += 1
                return found
            self.misses += 1
        prepared = self._prepare(query)
        if len(query) <= self.max_chars // 4:
            with self._lock:
                if query not in self._cache:
                    self._cache[query] = prepared
                    self._chars += len(query)
                while len(self._cache) > self.max_entries or self._chars > self.max_chars:
                    old, _ = self._cache.popitem(last=False)
                    self._chars -= len(old)
        return prepared

    def _prepare(self, query: str) -> Prepared:
        b = self.bounds
        if too_many_tokens(query, b.max_tokens):
            return _refused(f"the document has more than {b.max_tokens} tokens", b.max_tokens)
        if len(query) > MAX_STRING and longest_string(query) > MAX_STRING:
            return _refused(f"the document holds a text of more than {MAX_STRING} characters;"
                            " no field takes that much", MAX_STRING)
        if too_deeply_nested(query, b.max_nesting):
            return _refused(f"the document nests braces, brackets or parentheses more than "
                            f"{b.max_nesting} levels deep", b.max_nesting)
        try:
            document = parse(query, max_tokens=b.max_tokens)
        except GraphQLError as exc:
            # graphql-core: "Document contains more than N tokens. Parsing aborted."
            if "more than" in exc.message and "tokens" in exc.message:
                exc.extensions = {"code": LIMIT_CODE, "limit": b.max_tokens}
            else:
                exc.extensions = {"code": "GRAPHQL_PARSE_FAILED"}
            return Prepared(None, (exc,))
        except RecursionError:
            return _refused("the document is nested too deeply to parse", b.max_nesting)
        shape = check_shape(document, b.max_repeats, b.max_selections)
        if shape:
            return Prepared(None, tuple(shape))
        try:
            errors = validate(self.schema, document, self.rules)
        except RecursionError:
            return _refused("the document is nested too deeply to validate", b.max_nesting)
        if len(errors) == 1 and errors[0].message == "Validation aborted.":
            # graphql-core stops when fragments spread one another too deeply to check
            return _refused(f"fragments spread one another more than {FRAGMENT_NESTING} "
                            "levels deep", FRAGMENT_NESTING)
        return Prepared(None, tuple(errors)) if errors else Prepared(document)


def _refused(message: str, limit: int) -> Prepared:
    return Prepared(None, (GraphQLError(message, extensions={"code": LIMIT_CODE, "limit": limit}),))
