"""Impact analysis: what a change breaks, dependencies and single points of failure."""
