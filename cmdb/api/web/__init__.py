"""What every page and endpoint shares: headers, media types, bounded bodies and forms,
CSRF, templates, error answers, permissions, limits, metrics and logs."""
