"""What one GraphQL request may ask for, judged before it runs, in time linear in the document.

Two checks, each visiting every selection set and every fragment once (a fragment's
result is computed once and reused wherever it is spread):

- :func:`check_shape`, before validation: no field may be selected more than
  ``max_repeats`` times in one selection set (fragments included), and no selection
  set may hold more than ``max_selections`` selections. graphql-core's
  OverlappingFieldsCanBeMerged compares every pair of same-named fields, so 1,000
  copies of one field took seconds to validate; this refuses them in microseconds.
- :func:`estimate`, after validation: the estimated cost of the operation, the number
  of fields it may resolve: each field costs its weight (1, or more for fields that
  run a traversal, see :data:`WEIGHTS`), times the product of the page sizes of the
  lists it is nested in. A list's size is its ``first`` argument (a literal or a
  variable), else the argument's default, else the known bound of that list
  (:data:`LIST_SIZES`), else the largest page (``CMDB_MAX_PAGE_SIZE``). The lists
  directly inside a ``...Connection`` are the page their parent field asked for.
  A request over ``CMDB_MAX_QUERY_COST`` is refused with ``LIMIT_EXCEEDED`` and
  the estimate, before anything runs.

Fragments are collected as execution collects them: a fragment spread twice in one
selection set runs once, and so counts once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

LIMIT = "LIMIT_EXCEEDED"

WEIGHTS: Mapping[str, int] = {
    # Traversals of the graph and whole-CMDB reports: each is worth thousands of fields.
    "Query.impact": 5_000,
    "Query.dependencies": 5_000,
    "Query.singlePointsOfFailure": 10_000,
    "Query.health": 10_000,
    "Query.campaignReport": 2_000,
    "Mutation.planChange": 5_000,
    "Mutation.recomputeChangeImpact": 5_000,
    # One indexed query each time they are resolved (not batched across parents).
    "CI.history": 20,
    "Query.history": 20,
    "Campaign.findings": 20,
    "Campaign.progress": 100,
    "ImportRun.outcomes": 20,
}
"""Fields that cost more than one resolution: ``Type.field`` -> weight."""

LIST_SIZES: Mapping[str, int] = {
    # Bounded by the schema or the data model, far below a page.
    "HistoryEntry.changes": 20,
    "ImpactedCI.path": 20,
    "SinglePointOfFailure.path": 20,
    "ImportOutcome.differences": 20,
    "ImportOutcome.candidates": 10,
    "ImportOutcome.parties": 10,  # one per party column of sources.yaml
    "ImportPartyLink.candidates": 20,  # MAX_CANDIDATES of cmdb.services.imports.parties
    "Finding.candidates": 10,
    "Finding.evidence": 20,
    "Dependency.sharedBy": 20,
    "CIClass.attributes": 50,
    "CIClass.aliases": 20,
    "Query.ciClasses": 100,
    "Query.relationshipTypes": 50,
    "Query.lifecycle": 20,
    "Query.labelTemplates": 50,
    "NotifyParty.cis": 50,
    "NotifyParty.roles": 10,
    "Change.cis": 100,
    "Change.conflicts": 50,
    "Change.history": 50,
    "Campaign.places": 50,
}
"""Lists without a ``first`` argument whose length is known to be small."""


@dataclass
class _Fragments:
    """The document's fragments, each looked at once."""

    defs: dict[str, FragmentDefinitionNode]
    keys: dict[str, Counter[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, document: DocumentNode) -> _Fragments:
        return cls({d.name.value: d for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)})


def _direct(selection_set: SelectionSetNode) -> Iterator[FieldNode | FragmentSpreadNode]:
    """The fields and fragment spreads of a selection set, inline fragments flattened."""
    stack = [selection_set]
    while stack:
        for sel in stack.pop().selections:
            if isinstance(sel, InlineFragmentNode):
                stack.append(sel.selection_set)
            elif isinstance(sel, FieldNode | FragmentSpreadNode):
                yield sel


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _fragment_keys(frags: _Fragments, name: str, cap: int) -> Counter[str]:
    """How often each response key is selected by fragment ``name`` and the fragments it
    spreads (each distinct spread once, as execution does), each count capped at
    ``cap``. Iterative, so a long chain of fragments cannot exhaust the stack; a cycle
    (which validation refuses later) counts nothing twice."""
    if name in frags.keys:
        return frags.keys[name]
    visiting: set[str] = set()
    stack: list[tuple[str, bool]] = [(name, False)]
    while stack:
        current, children_done = stack.pop()
        if current in frags.keys or current not in frags.defs:
            continue
        spreads = {s.name.value for s in _direct(frags.defs[current].selection_set)
                   if isinstance(s, FragmentSpreadNode)}
        if not children_done:
            if current in visiting:
                continue
            visiting.add(current)
            stack.append((current, True))
            stack.extend((s, False) for s in spreads if s not in frags.keys)
            continue
        counts: Counter[str] = Counter(
            _key(s) for s in _direct(frags.defs[current].selection_set)
            if isinstance(s, FieldNode))
        for spread in spreads:
            counts.update(frags.keys.get(spread, {}))
        frags.keys[current] = Counter({k: min(v, cap) for k, v in counts.items()})
    return frags.keys.get(name, Counter())


def _selection_sets(document: DocumentNode) -> Iterator[SelectionSetNode]:
    stack: list[SelectionSetNode] = [
        d.selection_set for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)]
    while stack:
        current = stack.pop()
        yield current
        for sel in current.selections:
            if isinstance(sel, FieldNode | InlineFragmentNode) and sel.selection_set:
                stack.append(sel.selection_set)


def check_shape(document: DocumentNode, max_repeats: int,
                max_selections: int) -> list[GraphQLError]:
    """Refusals for selection sets that would make validation quadratic (see module)."""
    frags = _Fragments.of(document)
    for selection_set in _selection_sets(document):
        if len(selection_set.selections) > max_selections:
            return [GraphQLError(
                f"a selection set holds {len(selection_set.selections)} selections; "
                f"at most {max_selections} are allowed", selection_set,
                extensions={"code": LIMIT, "limit": max_selections})]
        counts: Counter[str] = Counter()
        nodes: dict[str, FieldNode] = {}
        spreads: set[str] = set()
        for sel in _direct(selection_set):
            if isinstance(sel, FieldNode):
                counts[_key(sel)] += 1
                nodes.setdefault(_key(sel), sel)
            else:
                spreads.add(sel.name.value)
        for name in spreads:
            counts.update(_fragment_keys(frags, name, max_repeats + 1))
        key, most = counts.most_common(1)[0] if counts else ("", 0)
        if most > max_repeats:
            return [GraphQLError(
                f"field `{key}` is selected more than {max_repeats} times in one selection "
                "set (fragments included)", nodes.get(key, selection_set),
                extensions={"code": LIMIT, "limit": max_repeats, "field": key})]
    return []


@dataclass(frozen=True)
class CostModel:
    """The budget and the numbers the estimate uses."""

    budget: int
    max_page: int
    weights: Mapping[str, int] = field(default_factory=lambda: WEIGHTS)
    list_sizes: Mapping[str, int] = field(default_factory=lambda: LIST_SIZES)


FieldsOf = GraphQLObjectType | GraphQLInterfaceType


class _Estimate:
    """One operation's estimate: each selection set and each fragment costed once."""

    def __init__(self, schema: GraphQLSchema, frags: _Fragments, model: CostModel,
                 variables: Mapping[str, Any]) -> None:
        self.schema, self.frags, self.model, self.variables = schema, frags, model, variables
        self.reach: dict[str, frozenset[str]] = {}
        self.fragment_costs: dict[str, int] = {}
        self.memo: dict[tuple[int, str], int] = {}

    def _reach_of(self, name: str) -> frozenset[str]:
        """The fragment and every fragment it spreads, transitively (validation has
        refused cycles); iterative, each fragment's set computed once."""
        stack: list[tuple[str, bool]] = [(name, False)]
        while stack:
            current, children_done = stack.pop()
            if current in self.reach or current not in self.frags.defs:
                continue
            spreads = {s.name.value for s in _direct(self.frags.defs[current].selection_set)
                       if isinstance(s, FragmentSpreadNode)}
            if not children_done:
                stack.append((current, True))
                stack.extend((s, False) for s in spreads if s not in self.reach)
                continue
            found = {current}
            for spread in spreads:
                found |= self.reach.get(spread, frozenset())
            self.reach[current] = frozenset(found)
        return self.reach.get(name, frozenset())

    def _own(self, selection_set: SelectionSetNode, parent: FieldsOf,
             spreads: set[str]) -> int:
        """The cost of the fields in a selection set and its inline fragments; the
        fragments it spreads are added to ``spreads``."""
        total = 0
        stack: list[tuple[SelectionSetNode, FieldsOf | None]] = [(selection_set, parent)]
        while stack:
            current, on = stack.pop()
            for sel in current.selections:
                if isinstance(sel, FieldNode):
                    total += self.field_cost(sel, on)
                elif isinstance(sel, InlineFragmentNode):
                    stack.append((sel.selection_set, self._type(sel, on)))
                elif isinstance(sel, FragmentSpreadNode):
                    spreads.add(sel.name.value)
        return total

    def _fragment_cost(self, name: str) -> int:
        """A fragment's own fields (not those of the fragments it spreads)."""
        if name not in self.fragment_costs:
            frag = self.frags.defs[name]
            on = self._type(frag, None)
            self.fragment_costs[name] = 0 if on is None else self._own(
                frag.selection_set, on, set())
        return self.fragment_costs[name]

    def _type(self, node: InlineFragmentNode | FragmentDefinitionNode,
              parent: FieldsOf | None) -> FieldsOf | None:
        if node.type_condition is None:
            return parent
        found = self.schema.get_type(node.type_condition.name.value)
        return found if isinstance(found, GraphQLObjectType | GraphQLInterfaceType) else parent

    def selection_cost(self, selection_set: SelectionSetNode, parent: FieldsOf) -> int:
        memo_key = (id(selection_set), parent.name)
        if memo_key not in self.memo:
            spreads: set[str] = set()
            total = self._own(selection_set, parent, spreads)
            names: set[str] = set()
            for spread in spreads:
                names |= self._reach_of(spread)
            self.memo[memo_key] = total + sum(self._fragment_cost(n) for n in names)
        return self.memo[memo_key]

    def field_cost(self, node: FieldNode, parent: FieldsOf | None) -> int:
        name = node.name.value
        if name.startswith("__") or parent is None:  # introspection: bounded by the schema
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 1
        key = f"{parent.name}.{name}"
        weight = self.model.weights.get(key, 1)
        if node.selection_set is None:
            return weight
        child = get_named_type(definition.type)
        if not isinstance(child, GraphQLObjectType | GraphQLInterfaceType):
            return weight  # a union: only __typename and inline fragments, rare here
        return weight + self._size(node, definition, parent, key) * self.selection_cost(
            node.selection_set, child)

    def _size(self, node: FieldNode, definition: GraphQLField, parent: FieldsOf,
              key: str) -> int:
        """How many times the field's selection runs per parent."""
        if "first" in definition.args:
            return self._first(node, definition)
        if not is_list_type(get_nullable_type(definition.type)):
            return 1
        if parent.name.endswith("Connection"):
            return 1  # the page its parent field asked for
        return self.model.list_sizes.get(key, self.model.max_page)

    def _first(self, node: FieldNode, definition: GraphQLField) -> int:
        value: Any = definition.args["first"].default_value
        for arg in node.arguments or ():
            if arg.name.value != "first":
                continue
            if isinstance(arg.value, IntValueNode):
                digits = arg.value.value
                # a literal of thousands of digits is no page size (int() would refuse it)
                value = int(digits) if len(digits) <= 18 else self.model.max_page
            elif isinstance(arg.value, VariableNode):
                value = self.variables.get(arg.value.name.value, value)
        if not isinstance(value, int) or isinstance(value, bool):
            return self.model.max_page
        return max(0, min(value, self.model.max_page))


def estimate(schema: GraphQLSchema, document: DocumentNode,
             operation: OperationDefinitionNode, variables: Mapping[str, Any] | None,
             model: CostModel) -> int:
    """The estimated cost of running ``operation`` with ``variables`` (see module)."""
    root = {OperationType.QUERY: schema.query_type,
            OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type}[operation.operation]
    if root is None:
        return 0
    work = _Estimate(schema, _Fragments.of(document), model, variables or {})
    return work.selection_cost(operation.selection_set, root)


def over_budget(cost: int, model: CostModel, node: OperationDefinitionNode) -> GraphQLError:
    return GraphQLError(
        f"the query's estimated cost is {cost}, over the budget of {model.budget}: ask for "
        "smaller pages (first), fewer nested lists, or split it into several requests",
        node, extensions={"code": LIMIT, "cost": cost, "limit": model.budget})
