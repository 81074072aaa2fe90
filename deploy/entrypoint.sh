#!/bin/sh
# Entry point of the Khademyar image: runs exactly one process of the system, chosen by name.
#
#   entrypoint.sh gateway|membership|catalog|reservation|reporting|shrine|desk
#
# The name is checked against a fixed list (not turned into a module path blindly), so a typo fails fast
# with a usage message instead of a nameko import traceback. The service class is named explicitly
# (module:Class): given a bare module, nameko would also try to run the classes it imports, such as
# kit.service.ServiceBase or the gateway's route mixins, and refuse to start. `exec` makes nameko PID 1 of
# the container: it receives SIGTERM from `docker stop` / Kubernetes itself and shuts down gracefully.
set -eu

usage() {
    echo "usage: $0 gateway|membership|catalog|reservation|reporting|shrine|desk" >&2
    exit 64  # EX_USAGE
}

[ "$#" -eq 1 ] || usage

case "$1" in
    gateway)     service=gateway.service:Gateway ;;
    membership)  service=services.membership.service:MembershipService ;;
    catalog)     service=services.catalog.service:CatalogService ;;
    reservation) service=services.reservation.service:ReservationService ;;
    reporting)   service=services.reporting.service:ReportingService ;;
    shrine)      service=services.shrine.service:ShrineService ;;
    desk)        service=services.desk.service:DeskService ;;
    *)           usage ;;
esac

# nameko resolves config.yml and the service modules from the working directory, and kit/ finds data/ beside
# itself: run from the project root, which is this script's parent directory (/app in the image).
cd "$(dirname "$0")/.."
export KHADEMYAR_SERVICE="$1"  # named in every JSON log line
exec nameko run --config config.yml "$service"
