"""The SDL committed in schema/cmdb.graphql matches the code (regenerate with `cmdb sdl`)."""

from __future__ import annotations

from cmdb.api.graphql.schema import SDL_HEADER, SDL_PATH, sdl


def test_sdl_file_is_current() -> None:
    stale = "schema/cmdb.graphql is stale: run `cmdb sdl`"
    assert SDL_PATH.read_text(encoding="utf-8") == sdl(), stale


def test_sdl_keeps_the_public_contract() -> None:
    text = sdl()
    assert text.startswith(SDL_HEADER)
    for needle in ("ci(id: ID = null, assetTag: String = null): CI",
                   "cis(filter: CIFilter = null, first: Int! = 50, after: String = null, "
                   "orderBy: CIOrder = null): CIConnection!",
                   "createCI(input: CreateCIInput!): CI!",
                   "updateCI(id: ID!, expectedVersion: Int!, input: UpdateCIInput!, "
                   "reason: String = null): CI!",
                   "transitionCI(id: ID!, to: String!, reason: String = null",
                   "relate(from: ID!, type: String!, to: ID!, attributes: JSON = null)",
                   "unrelate(id: ID!, reason: String = null): Relationship!",
                   "disposeCI(id: ID!"):
        assert needle in text, needle
