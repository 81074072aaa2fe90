"""An acknowledgement on a connection that broke under it must not end the service (kit.rpc.settle)."""
import pytest

from kit.rpc import settle


class Consumer:
    def __init__(self, error):
        self.error = error
        self.calls = []

    def ack_message(self, message):
        self.calls.append(("ack", message))
        if self.error:
            raise self.error

    def requeue_message(self, message):
        self.calls.append(("requeue", message))
        if self.error:
            raise self.error


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset"), None])
def test_a_broken_connection_leaves_the_delivery_to_the_broker(error):
    consumer = Consumer(error)
    settle(consumer, "m")
    settle(consumer, "m", requeue=True)
    assert consumer.calls == [("ack", "m"), ("requeue", "m")]


def test_other_errors_are_not_swallowed():
    with pytest.raises(RuntimeError):
        settle(Consumer(RuntimeError("a bug")), "m")
