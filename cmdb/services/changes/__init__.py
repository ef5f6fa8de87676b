"""Change records with their planned impact and conflicts."""
