"""Helpers the test suite shares: real servers it starts and stops (Neo4j, ...)."""
