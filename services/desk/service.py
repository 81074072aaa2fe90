"""The desk service: a placeholder that answers health checks until its issue is built."""
from kit.service import ServiceBase


class DeskService(ServiceBase):
    name = "desk"
