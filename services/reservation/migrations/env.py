from kit.migrate import run_env
from services.reservation.models import metadata

run_env(metadata)
