"""The SQLite store: the embedded default, one file, zero set-up."""
