"""kit.amqp's chunked reads of py-amqp frames: whatever way the bytes arrive, the frames come out whole and in order,
and frames that arrived together cost one read of the socket, not two or three each."""
import socket
import struct

from amqp.transport import TCPTransport
from hypothesis import given, settings
from hypothesis import strategies as st

import kit.amqp  # noqa: F401  (applies the chunked reads)


def frame(kind, channel, payload):
    return struct.pack(">BHI", kind, channel, len(payload)) + payload + b"\xce"


class FakeSocket:
    """Hands out ``data`` in the given pieces (never more than asked), then a timeout, as a socket with nothing
    more to read would."""

    def __init__(self, pieces):
        self.pieces = [p for p in pieces if p]
        self.calls = 0

    def recv(self, n):
        self.calls += 1
        if not self.pieces:
            raise socket.timeout("nothing more")
        piece = self.pieces[0]
        self.pieces[0] = piece[n:]
        if not self.pieces[0]:
            self.pieces.pop(0)
        return piece[:n]


def transport(sock):
    t = TCPTransport.__new__(TCPTransport)
    t._read_buffer = b""
    t._quick_recv = sock.recv
    t.raise_on_initial_eintr = True
    t.connected = True
    return t


def test_the_chunked_reads_are_applied():
    assert TCPTransport._khademyar_chunked is True


def test_a_message_of_three_frames_that_arrived_together_is_one_read():
    frames = [frame(1, 1, b"\x00\x3c\x00\x3c" + b"m" * 40), frame(2, 1, b"h" * 30), frame(3, 1, b"body")]
    sock = FakeSocket([b"".join(frames)])
    t = transport(sock)
    got = [t.read_frame() for _ in frames]
    assert [g[2] for g in got] == [b"\x00\x3c\x00\x3c" + b"m" * 40, b"h" * 30, b"body"]
    assert [(g[0], g[1]) for g in got] == [(1, 1), (2, 1), (3, 1)]
    assert sock.calls == 1  # py-amqp's own reads made six


payloads = st.lists(st.binary(max_size=40000), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(payloads=payloads, cuts=st.lists(st.integers(min_value=1, max_value=50000), max_size=30))
def test_frames_come_out_whole_however_the_bytes_are_cut(payloads, cuts):
    data = b"".join(frame(3, 7, p) for p in payloads)
    pieces, at = [], 0
    for cut in cuts:
        pieces.append(data[at:at + cut])
        at += cut
    pieces.append(data[at:])
    t = transport(FakeSocket(pieces))
    assert [t.read_frame()[2] for _ in payloads] == payloads


def test_a_timeout_in_the_middle_of_a_frame_loses_nothing():
    whole = frame(3, 1, b"x" * 100) + frame(3, 1, b"y" * 5)
    sock = FakeSocket([whole[:50]])
    t = transport(sock)
    try:
        t.read_frame()
    except socket.timeout:
        pass
    else:
        raise AssertionError("half a frame cannot be read")
    sock.pieces.append(whole[50:])
    assert t.read_frame()[2] == b"x" * 100
    assert t.read_frame()[2] == b"y" * 5
