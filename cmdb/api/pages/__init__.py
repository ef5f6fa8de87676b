"""Server-rendered pages: one module per domain, rendered by autoescaping templates."""
