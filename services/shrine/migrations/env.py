from kit.migrate import run_env
from services.shrine.models import metadata

run_env(metadata)
