"""API routes for customers."""

from ninja import Router

router = Router(tags=["customers"])
