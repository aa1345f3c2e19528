"""Operator views: counts and rates only, never content."""
