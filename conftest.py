"""Root of the test suite: eventlet first, then the shared fixtures of a real broker and real databases."""
import eventlet

eventlet.monkey_patch()  # before anything imports socket, threading or psycopg2

pytest_plugins = ["tests.fixtures"]
