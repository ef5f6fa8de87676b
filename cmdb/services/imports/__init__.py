"""Import runs: files from other tools identified, reconciled, previewed or applied."""
