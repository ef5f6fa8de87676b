"""Asset labels: which CIs, with which template, drawn by the top-level labels package."""
