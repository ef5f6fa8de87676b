"""The role each operation needs: declared here, in one place, and enforced everywhere.

- Every GraphQL mutation needs the role in :data:`REQUIRED_ROLE`; a mutation that
  is not declared here is refused to everyone (admins included), and the role
  matrix test (``tests/api/graphql/test_permissions.py``) fails until it is declared.
- GraphQL query fields need ``reader`` (any signed-in caller) unless
  :data:`QUERY_ROLE` says otherwise.
- HTTP endpoints: ``GET``/``HEAD`` need ``reader``; other methods need the role in
  :data:`HTTP_ROLE` for their path prefix, and ``admin`` when none is declared.

Checks run before anything executes, so a refusal costs microseconds.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from cmdb.errors import PermissionDeniedError
from cmdb.model.access import Principal, Role, allows

REQUIRED_ROLE: dict[str, Role] = {
    # CIs and relationships
    "createCI": Role.EDITOR,
    "updateCI": Role.EDITOR,
    "transitionCI": Role.EDITOR,
    "disposeCI": Role.EDITOR,
    "relate": Role.EDITOR,
    "unrelate": Role.EDITOR,
    # change records
    "planChange": Role.EDITOR,
    "transitionChange": Role.EDITOR,
    "recomputeChangeImpact": Role.EDITOR,
    # labels
    "recordLabelsPrinted": Role.LABELER,
    # imports and audit campaigns
    "importFile": Role.AUDITOR,
    "createCampaign": Role.AUDITOR,
    "openCampaign": Role.AUDITOR,
    "closeCampaign": Role.AUDITOR,
    "recordSighting": Role.AUDITOR,
    "resolveFinding": Role.AUDITOR,
    "resolveFindings": Role.AUDITOR,
    # access
    "createToken": Role.ADMIN,
    "revokeToken": Role.ADMIN,
    "createUser": Role.ADMIN,
    "disableUser": Role.ADMIN,
    "setPassword": Role.ADMIN,
    "signOutEverywhere": Role.ADMIN,
    # a signed-in user's own password (any role; proves the current password)
    "changePassword": Role.READER,
}

QUERY_ROLE: dict[str, Role] = {
    "tokens": Role.ADMIN,
    "users": Role.ADMIN,
}

# Path prefix -> role for methods other than GET and HEAD; the longest prefix wins.
HTTP_ROLE: dict[str, Role] = {
    "/graphql": Role.READER,  # each operation is checked on its own (see above)
    "/labels": Role.LABELER,
    "/imports": Role.AUDITOR,
    "/campaigns": Role.AUDITOR,
    "/a": Role.AUDITOR,  # POST /a/{tag}/seen: an auditor's scan records a sighting
    "/cis": Role.EDITOR,  # the console's CI forms: edit, change state, relate, unrelate
}

def http_role(method: str, path: str) -> Role:
    """The role an HTTP request needs before it reaches its endpoint."""
    if method in ("GET", "HEAD"):
        return Role.READER
    matches = [p for p in HTTP_ROLE if path == p or path.startswith(p + "/")]
    return HTTP_ROLE[max(matches, key=len)] if matches else Role.ADMIN


def field_role(operation: OperationType, name: str) -> Role | None:
    """The role a root field needs; None for an undeclared mutation (nobody may run it)."""
    if operation is OperationType.MUTATION:
        return REQUIRED_ROLE.get(name)
    if operation is OperationType.QUERY:
        return QUERY_ROLE.get(name, Role.READER)
    return None


def _root_fields(selection: SelectionSetNode,
                 fragments: dict[str, FragmentDefinitionNode]) -> list[FieldNode]:
    """The operation's root fields, through inline fragments and fragment spreads; each
    fragment is looked at once, however often (and however deep) it is spread."""
    out: list[FieldNode] = []
    seen: set[str] = set()
    stack = [selection]
    while stack:
        for sel in stack.pop().selections:
            if isinstance(sel, FieldNode):
                out.append(sel)
            elif isinstance(sel, InlineFragmentNode):
                stack.append(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    stack.append(fragments[name].selection_set)
    return out


def check_operation(document: DocumentNode, operation: OperationDefinitionNode,
                    principal: Principal) -> list[GraphQLError]:
    """FORBIDDEN errors for each root field of ``operation`` that ``principal`` may not use."""
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    errors: list[GraphQLError] = []
    for field in _root_fields(operation.selection_set, fragments):
        name = field.name.value
        if name.startswith("__"):
            continue
        need = field_role(operation.operation, name)
        if need is None:
            denied = PermissionDeniedError(f"{name} has no declared role, so nobody may use it",
                                           field=name)
        elif not allows(principal.role, need):
            denied = PermissionDeniedError(
                f"{name} needs the {need.value} role; {principal.name} is {principal.role.value}",
                field=name, required=need.value)
        else:
            continue
        errors.append(GraphQLError(denied.message, field, original_error=denied,
                                   extensions={"code": denied.code, **denied.details}))
    return errors
