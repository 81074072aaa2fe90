from kit.migrate import run_env
from services.desk.models import metadata

run_env(metadata)
