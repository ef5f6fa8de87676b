"""The GraphQL API: the schema, one module per domain, and how queries are checked and run."""
