"""HTTP plumbing and the endpoints that are not GraphQL: uploads, labels, imports, limits."""
