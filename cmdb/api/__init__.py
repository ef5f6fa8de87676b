"""The web side: GraphQL over HTTP, pages, health.

The only part of the core that imports starlette or strawberry.
"""
