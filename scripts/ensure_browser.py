"""Before the browser tests (tests/browser): Debian's Chromium and the python package playwright must be here.

Installs what is missing: Chromium with apt-get (as root, non-interactive), playwright with pip into this
interpreter. Never runs `playwright install` (it downloads browsers of its own). When something cannot be
installed here it says how to get it and exits 0: the browser tests then skip, naming the reason.
"""
import importlib.util
import os
import shutil
import subprocess
import sys

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PLAYWRIGHT = "playwright==1.65.2"  # keep in step with the dev dependencies in pyproject.toml
APT_PACKAGES = ["chromium", "fonts-liberation"]


def run(command, **kwargs):
    print("+ " + " ".join(command), flush=True)
    return subprocess.run(command, check=False, **kwargs).returncode == 0


def ensure_chromium():
    if os.access(CHROMIUM, os.X_OK):
        print(f"chromium: {CHROMIUM} is here")
        return True
    how = "apt-get update && apt-get install -y --no-install-recommends " + " ".join(APT_PACKAGES)
    if not shutil.which("apt-get"):
        print(f"chromium: {CHROMIUM} is missing and apt-get is not available. Install Chromium with your system's "
              f"package manager (Debian/Ubuntu: {how}) or point CHROMIUM at one; the browser tests skip until then.")
        return False
    if os.geteuid() != 0:
        print(f"chromium: {CHROMIUM} is missing; installing it needs root: sudo sh -c '{how}'. "
              "The browser tests skip until then.")
        return False
    print(f"chromium: {CHROMIUM} is missing; installing Debian's chromium with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    installed = run(["apt-get", "update", "-qq"], env=env) and run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES], env=env)
    if installed and os.access(CHROMIUM, os.X_OK):
        print(f"chromium: installed at {CHROMIUM}")
        return True
    print(f"chromium: apt-get could not install it; try by hand: {how}. The browser tests skip until then.")
    return False


def ensure_playwright():
    if importlib.util.find_spec("playwright") is not None:
        print("playwright: the python package is here")
        return True
    print(f"playwright: the python package is missing; installing {PLAYWRIGHT} with pip (no browser download)")
    if run([sys.executable, "-m", "pip", "install", "--quiet", PLAYWRIGHT]):
        return True
    print(f"playwright: pip could not install it; try: {sys.executable} -m pip install {PLAYWRIGHT}. "
          "The browser tests skip until then.")
    return False


if __name__ == "__main__":
    ready = ensure_playwright() & ensure_chromium()
    print("browser tests: ready" if ready else "browser tests: will be skipped (see above)")
    sys.exit(0)
