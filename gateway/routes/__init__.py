"""Route groups of the gateway, one module per area; gateway/service.py composes them."""
