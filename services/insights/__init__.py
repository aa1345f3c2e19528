"""The insights service: red-flag patterns, strengths, pillar health and recommendations."""
