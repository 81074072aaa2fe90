"""kit.container: a service's workers bounded by its database connections; the gateway's by ``max_workers``."""
from pathlib import Path

import pytest
import yaml
from nameko.cli.main import IMPLICIT_ENV_VAR_MATCHER, env_var_constructor
from nameko.containers import get_container_cls

from gateway.service import Gateway
from kit.container import ServiceContainer, worker_bound
from services.membership.service import MembershipService
from services.shrine.service import ShrineService

ROOT = Path(__file__).resolve().parents[2]


class NamekoLoader(yaml.SafeLoader):
    """What ``nameko run`` reads config.yml with (nameko.cli.main ``setup_yaml_parser``), on a loader of its own:
    nameko's own function changes yaml's SafeLoader for every later test in the process."""


NamekoLoader.add_constructor("!env_var", env_var_constructor)
NamekoLoader.add_implicit_resolver("!env_var", IMPLICIT_ENV_VAR_MATCHER, None)


@pytest.fixture
def config(monkeypatch):
    """config.yml as ``nameko run`` reads it, with this environment."""
    monkeypatch.setenv("MAX_WORKERS", "64")
    monkeypatch.setenv("DB_POOL_SIZE", "12")
    with open(ROOT / "config.yml", encoding="utf-8") as f:
        return yaml.load(f, Loader=NamekoLoader)


def test_every_process_runs_in_the_kit_container(config):
    assert get_container_cls(config) is ServiceContainer


def test_a_service_with_a_database_runs_as_many_workers_as_its_pool_size(config):
    shrine = get_container_cls(config)(ShrineService, config)
    assert shrine.max_workers == 12 == shrine._worker_pool.size
    assert config["max_workers"] == 64  # the shared config is left as it was: only this container is bounded


def test_the_gateway_keeps_max_workers(config):
    gateway = get_container_cls(config)(Gateway, config)
    assert gateway.max_workers == 64 == gateway._worker_pool.size


def test_max_workers_below_the_pool_size_still_bounds_a_service():
    assert worker_bound(MembershipService, {"max_workers": 4, "DB_POOL_SIZE": 10}) == 4
    assert worker_bound(MembershipService, {"max_workers": 40, "DB_POOL_SIZE": 10}) == 10
