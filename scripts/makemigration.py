"""Autogenerate a migration for one service: python scripts/makemigration.py membership "message"."""
import os
import shutil
import sys
import tempfile

from alembic import command

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kit.migrate import alembic_config  # noqa: E402


def main(service, message):
    location = os.path.join("services", service, "migrations")
    os.makedirs(os.path.join(location, "versions"), exist_ok=True)
    if not os.path.exists(os.path.join(location, "env.py")):
        with open(os.path.join(location, "env.py"), "w") as f:
            f.write(f"from kit.migrate import run_env\nfrom services.{service}.models import metadata\n\nrun_env(metadata)\n")
    shutil.copy(os.path.join("kit", "alembic_template", "script.py.mako"), location)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/head.db"
        cfg = alembic_config(location, url)
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
