"""The Neo4j 5 store: a real server, the path to scale."""
