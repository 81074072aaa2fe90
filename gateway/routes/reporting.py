"""Routes of the reporting service (filled in by its issue)."""
from nameko.rpc import RpcProxy


class ReportingRoutes:
    reporting = RpcProxy("reporting")
