"""Before tests and benchmarks: RabbitMQ and PostgreSQL must answer; start the local ones if they are installed."""
import glob
import os
import socket
import subprocess
import sys
import time


def reachable(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start(name, port, command):
    if reachable(port):
        return
    print(f"{name} is not answering on {port}; starting it: {' '.join(command)}", flush=True)
    try:
        subprocess.run(command, check=False)
    except FileNotFoundError:
        sys.exit(f"{name} is not installed: install it (Debian: apt-get install {name.lower()}) and start it.")
    for _ in range(60):
        if reachable(port):
            return
        time.sleep(1)
    sys.exit(f"{name} did not come up on port {port}.")


if __name__ == "__main__":
    start("RabbitMQ", 5672, ["rabbitmq-server", "-detached"])
    versions = sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*"))
    start("PostgreSQL", 5432, ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1] if versions else "15",
                               "main", "start"])
