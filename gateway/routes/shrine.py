"""Routes of the shrine service (filled in by its issue)."""
from nameko.rpc import RpcProxy


class ShrineRoutes:
    shrine = RpcProxy("shrine")
