"""Configuration items: their records, queries, history, places, parties and vendors."""
