"""Routes of the desk service (filled in by its issue)."""
from nameko.rpc import RpcProxy


class DeskRoutes:
    desk = RpcProxy("desk")
