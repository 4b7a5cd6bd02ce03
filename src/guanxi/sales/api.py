"""API routes for sales."""

from ninja import Router

router = Router(tags=["sales"])
