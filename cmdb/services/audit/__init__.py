"""Audit campaigns: sightings, findings, their resolution and the campaign report."""
