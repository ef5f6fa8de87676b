"""Who may do what: users, API tokens, passwords and sign-in sessions."""
