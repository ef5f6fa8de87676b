"""Execution of plain fields without graphql-core's per-field machinery.

graphql-core executes every field the same way: a ``Path``, a resolve info, the
resolver call, then ``complete_value`` dispatching on the type; about 7 µs of CPU per
field however plain it is. Most fields of a large response are plain: a strawberry
field with no resolver of its own, no permission classes or other field extensions,
no arguments, whose value is an attribute of the object (``CI.name``,
``ImpactedCI.depth``, ``PathStep.from``). :class:`PlainFieldExecutor` reads those
directly, from the same default resolver strawberry would call, and completes them
with the same calls graphql-core makes (``complete_leaf_value`` for scalars and enums,
``collect_and_execute_subfields`` for objects); the error paths (an exception, a null
in a non-null field, a value the scalar cannot serialize, an awaitable) go through
graphql-core's own ``handle_field_error`` and ``complete_awaitable_value`` with the
same arguments. An object of a type without ``is_type_of`` (each item of a list of
objects, say) goes straight to its subfields, as ``complete_value`` would send it.
Every other field (a resolver, arguments, an extension, an abstract or list type,
``__typename``) takes the normal path, as does everything when a schema extension
resolves fields (middleware), when the schema has exception handlers, or under
``@defer``. ``tests/api/graphql/test_execution.py`` runs representative queries through
both executors and compares the responses byte for byte.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import graphql
from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_leaf_type,
    is_object_type,
    pyutils,
)
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

if TYPE_CHECKING:  # names of graphql-core 3.3, imported for the annotations only
    from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
    from graphql.pyutils import AwaitableOrValue

    _Step = tuple[str, FieldDetailsList, "_Plain | None"]

SUPPORTED = graphql.version_info[:2] == (3, 3)
"""The executor relies on graphql-core 3.3's ``Executor`` methods; with another
version the schema keeps strawberry's own executor."""

#: Values that are certainly not awaitable (the check is skipped for them).
_PLAIN_VALUES = frozenset({str, int, float, bool, datetime, date, type(None), dict, list})
#: Values a scalar's coercer may take as they are (coerced in line when it does).
_SCALAR_VALUES = frozenset({str, int, float, bool})
#: Field directives applied while fields are collected; any other keeps the normal path.
_COLLECTION_DIRECTIVES = frozenset({"include", "skip"})

LEAF, OBJECT = 1, 2


class _Plain(NamedTuple):
    """How to execute one plain field of a selection set."""

    kind: int  # LEAF or OBJECT
    field_def: GraphQLField
    resolver: Callable[[Any, str], Any]  # strawberry's default resolver (getattr)
    python_name: str
    return_type: GraphQLOutputType
    named_type: Any  # the leaf or object type inside a non-null
    non_null: bool
    field_name: str
    coerce: Callable[[Any], Any] | None  # a leaf's ``coerce_output_value``


def _plain_field(parent_type: GraphQLObjectType, field_def: GraphQLField,
                 details: FieldDetailsList) -> _Plain | None:
    """How to read this field directly, or None when it needs the normal path."""
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField):
        return None
    if (definition.base_resolver is not None or definition.extensions
            or definition.is_subscription or field_def.args or field_def.subscribe
            or not getattr(field_def.resolve, "_is_default", False)):
        return None
    for detail in details:
        node = detail.node
        if node.arguments or any(d.name.value not in _COLLECTION_DIRECTIVES
                                 for d in node.directives or ()):
            return None
    return_type = field_def.type
    non_null = isinstance(return_type, GraphQLNonNull)
    named = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    if is_leaf_type(named):
        kind = LEAF
    elif is_object_type(named) and not named.is_type_of:
        kind = OBJECT
    else:
        return None
    return _Plain(kind, field_def, definition.default_resolver, definition.python_name,
                  return_type, named, non_null, details[0].node.name.value,
                  named.coerce_output_value if is_leaf_type(named) else None)


async def _await_object(executor: PlainFieldExecutor, completed: Awaitable[Any],
                        plain: _Plain, details: FieldDetailsList, path: Path) -> Any:
    """An object whose subfields complete later: errors handled as ``execute_field``
    handles them."""
    try:
        return await completed
    except Exception as raw_error:
        executor.handle_field_error(raw_error, plain.return_type, details, path)
        return None


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, reading plain fields directly (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        handlers = getattr(getattr(self.schema, "_strawberry_schema", None),
                           "exception_handlers", ())
        self._direct = (middleware is None or not middleware.middlewares) and not handlers
        self._plans: dict[int, tuple[GroupedFieldSet, GraphQLObjectType,
                                     list[_Step] | None]] = {}
        self._objects: dict[GraphQLOutputType, GraphQLObjectType | None] = {}

    def _plan(self, parent_type: GraphQLObjectType,
              grouped_field_set: GroupedFieldSet) -> list[_Step] | None:
        """The selection set's fields in order, each with how to read it when plain;
        None when none is (memoized: a list of objects shares one selection set)."""
        key = id(grouped_field_set)
        cached = self._plans.get(key)
        if cached is not None and cached[1] is parent_type:
            return cached[2]
        steps: list[_Step] = []
        any_plain = False
        for response_name, details in grouped_field_set.items():
            field_def = self.schema.get_field(parent_type, details[0].node.name.value)
            plain = _plain_field(parent_type, field_def, details) if field_def else None
            any_plain = any_plain or plain is not None
            steps.append((response_name, details, plain))
        plan = steps if any_plain else None
        # The set is kept with its plan so that its id cannot be reused meanwhile.
        self._plans[key] = (grouped_field_set, parent_type, plan)
        return plan

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        """An object (each item of a list of objects, say) of a type without
        ``is_type_of``, non-null or not, completes as ``complete_value``,
        ``complete_object_value`` and ``collect_and_execute_subfields`` would complete
        it, without passing through them; anything else goes through them."""
        objects = self._objects
        if return_type in objects:
            target = objects[return_type]
        else:
            named = return_type.of_type if isinstance(return_type, GraphQLNonNull) \
                else return_type
            target = objects[return_type] = (
                named if is_object_type(named) and not named.is_type_of else None)
        if (target is not None and position_context is None and self._direct
                and result is not None and result is not Undefined
                and not isinstance(result, Exception)):
            grouped, new_defer_usages, _ = self.collect_subfields(target, field_details_list)
            if not new_defer_usages:
                return self.execute_fields(target, result, path, grouped, None)
        return super().complete_value(return_type, field_details_list, info, path, result,
                                      position_context)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        plan = (self._plan(parent_type, grouped_field_set)
                if self._direct and position_context is None else None)
        if plan is None:
            return super().execute_fields(parent_type, source_value, path,
                                          grouped_field_set, position_context)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        parent_name = parent_type.name
        try:
            for response_name, details, plain in plan:
                if plain is None:
                    result = self.execute_field(parent_type, source_value, details,
                                                Path(path, response_name, parent_name),
                                                position_context)
                elif plain.coerce is not None:
                    # a leaf: a plain value its coercer takes is the common case
                    try:
                        value = plain.resolver(source_value, plain.python_name)
                        if type(value) in _SCALAR_VALUES:
                            coerced = plain.coerce(value)
                            if coerced is not None and coerced is not Undefined:
                                results[response_name] = coerced
                                continue
                    except Exception as raw_error:
                        self.handle_field_error(raw_error, plain.return_type, details,
                                                Path(path, response_name, parent_name))
                        result = None
                    else:
                        result = self._complete_plain(plain, parent_type, value, details,
                                                      path, response_name)
                else:
                    result = self._execute_plain(plain, parent_type, source_value,
                                                 details, path, response_name)
                if result is not Undefined:
                    results[response_name] = result
                    if type(result) not in _PLAIN_VALUES and is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[f] for f in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gather(results, awaitable_fields)

    async def _gather(self, results: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        """``execute_fields``' own way of awaiting the fields that are awaitable."""
        if len(fields) == 1:
            results[fields[0]] = await results[fields[0]]
        else:
            awaited = await pyutils.gather_with_cancel(*(results[f] for f in fields))
            results.update(zip(fields, awaited, strict=True))
        return results

    def _execute_plain(self, plain: _Plain, parent_type: GraphQLObjectType, source: Any,
                       details: FieldDetailsList, path: Path | None,
                       response_name: str) -> Any:
        """``execute_field`` and ``complete_value`` for a plain field, in their order."""
        try:
            value = plain.resolver(source, plain.python_name)
        except Exception as raw_error:
            self.handle_field_error(raw_error, plain.return_type, details,
                                    Path(path, response_name, parent_type.name))
            return None
        return self._complete_plain(plain, parent_type, value, details, path,
                                    response_name)

    def _complete_plain(self, plain: _Plain, parent_type: GraphQLObjectType, value: Any,
                        details: FieldDetailsList, path: Path | None,
                        response_name: str) -> Any:
        """What ``execute_field`` does with a plain field's value once read."""
        try:
            if type(value) not in _PLAIN_VALUES and self.is_awaitable(value):
                field_path = Path(path, response_name, parent_type.name)
                info = self.build_resolve_info(plain.field_def,
                                               [d.node for d in details], parent_type,
                                               field_path)
                return self.complete_awaitable_value(plain.return_type, details, info,
                                                     field_path, value, None)
            if isinstance(value, Exception):
                raise value
            if value is None or value is Undefined:
                if plain.non_null:
                    raise TypeError("Cannot return null for non-nullable field"
                                    f" {parent_type.name}.{plain.field_name}.")
                return None
            if plain.coerce is not None:
                coerced = plain.coerce(value)
                if coerced is None or coerced is Undefined:
                    # complete_leaf_value raises its error (coercion is a pure function)
                    leaf: GraphQLLeafType = plain.named_type
                    return self.complete_leaf_value(leaf, value)
                return coerced
            field_path = Path(path, response_name, parent_type.name)
            grouped, new_defer_usages, _ = self.collect_subfields(plain.named_type, details)
            if new_defer_usages:
                completed = self.execute_collected_subfields(
                    plain.named_type, value, field_path, grouped, new_defer_usages, None)
            else:
                completed = self.execute_fields(plain.named_type, value, field_path,
                                                grouped, None)
            if self.is_awaitable(completed):
                return _await_object(self, completed, plain, details, field_path)
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, plain.return_type, details,
                                    Path(path, response_name, parent_type.name))
            return None
