"""Guanxi (关系): a self-hosted customer relationship management system.

This module imports nothing from Django so that ``guanxi.analytics`` stays usable alone.
"""

__version__ = "0.1.0"
