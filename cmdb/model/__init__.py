"""The domain model: records, the schema registry, attribute rules. No framework, no driver."""
