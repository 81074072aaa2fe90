"""Argon2id password hashing, off the event loop (argon2 releases the GIL, so OS threads use every core)."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool

_hasher = PasswordHasher()  # Argon2id, argon2-cffi's RFC 9106 low-memory profile
# verified against when the national ID is unknown, so both answers take the same time
_DUMMY = _hasher.hash("khademyar-timing-equaliser")


def hash_password(password):
    return tpool.execute(_hasher.hash, password)


def verify(password_hash, password):
    try:
        return tpool.execute(_hasher.verify, password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    return _hasher.check_needs_rehash(password_hash)
