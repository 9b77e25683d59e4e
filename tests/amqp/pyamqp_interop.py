#!/usr/bin/python3
"""py-amqp side of squall's broker interop test (tests/amqp/test_interop_pyamqp.cpp).

Talks to a real RabbitMQ with Debian's python3-amqp (5.1):

  pyamqp_interop.py publish URL QUEUE
      publishes MESSAGES (below) to QUEUE through the default exchange, with publisher confirms, and prints
      for each the hex of the content-header property bytes py-amqp wrote (one line per message).
  pyamqp_interop.py receive URL QUEUE N
      basic.get's N messages from QUEUE (waiting up to 10 s for each), acks them, and prints for each one
      line: `body=<hex of the body> props=<hex of the property bytes as received> repr=<repr of the decoded
      properties>`. The property bytes are taken from the content header frame before py-amqp
      decodes them, so the C++ side can compare them byte for byte with what squall sent.
"""

import sys
import time
from datetime import datetime
from decimal import Decimal
from urllib.parse import unquote, urlparse

import amqp
from amqp.basic_message import Message

# Every value type py-amqp writes (serialization._write_item): str and bytes as 'S', bool 't', float 'd',
# int 'I' (or 'L' beyond 32 bits), Decimal 'D', datetime 'T', dict 'F', list 'A', None 'V'.
HEADERS = {
    "str": "h\u00e9llo \u2603",
    "bytes": bytes(range(256)),
    "empty": "",
    "true": True,
    "false": False,
    "int": -123456,
    "int_max": 2147483647,
    "big": 1 << 40,
    "neg_big": -(1 << 53),
    "float": -1.5e300,
    "decimal": Decimal("123.45"),
    "timestamp": datetime(2024, 2, 29, 23, 59, 58),
    "table": {"inner": {"deep": [1, "x", None]}, "k": "v"},
    "array": [True, 7, 2.5, "s", b"\x00\xff", Decimal("-0.5"), datetime(2001, 9, 9, 1, 46, 40), [], {}],
    "void": None,
}

ALL_PROPERTIES = dict(
    content_type="application/x-test; charset=binary",
    content_encoding="identity",
    application_headers=HEADERS,
    delivery_mode=2,
    priority=9,
    correlation_id="corr-\u00e9",
    reply_to="reply.queue",
    expiration="3600000",
    message_id="id-" + "m" * 200,
    timestamp=1709251198,
    type="interop.full",
    user_id="guest",  # RabbitMQ checks it against the login
    app_id="py-amqp",
    cluster_id="cluster-7",
)


def big_body():
    # 300,000 bytes: several body frames at frame_max 131072; no byte pattern repeats within a frame.
    return bytes((i * 7 + (i >> 8)) & 0xFF for i in range(300_000))


# (body, properties): all 14 properties with a table of every type; none at all with an empty body;
# a few properties with a multi-frame body.
MESSAGES = [
    (bytes(range(256)) * 4, ALL_PROPERTIES),
    (b"", {}),
    (big_body(), dict(content_type="application/octet-stream", priority=0)),
]


def connect(url):
    u = urlparse(url)
    vhost = unquote(u.path[1:]) if len(u.path) > 1 else "/"
    conn = amqp.Connection(host=f"{u.hostname}:{u.port or 5672}", userid=unquote(u.username or "guest"),
                           password=unquote(u.password or "guest"), virtual_host=vhost,
                           confirm_publish=True)
    conn.connect()
    return conn


def publish(url, queue):
    conn = connect(url)
    ch = conn.channel()
    for body, props in MESSAGES:
        msg = Message(body, **props)
        print(msg._serialize_properties().hex())
        ch.basic_publish(msg, exchange="", routing_key=queue)  # waits for the confirm (confirm_publish)
    conn.close()


def receive(url, queue, count):
    captured = {}
    original = Message.inbound_header

    def inbound_header(self, buf, offset=0):
        captured[id(self)] = bytes(buf[offset + 12:])
        return original(self, buf, offset)

    Message.inbound_header = inbound_header
    conn = connect(url)
    ch = conn.channel()
    ch.auto_decode = False  # bodies stay bytes whatever their content_encoding
    for _ in range(count):
        deadline = time.monotonic() + 10
        msg = None
        while msg is None:
            msg = ch.basic_get(queue)
            if msg is None:
                if time.monotonic() > deadline:
                    sys.exit(f"no message in {queue} after 10 s")
                time.sleep(0.02)
        ch.basic_ack(msg.delivery_tag)
        # py-amqp leaves the body of an empty message at its default, the str ''.
        body = msg.body.encode() if isinstance(msg.body, str) else bytes(msg.body)
        print(f"body={body.hex()} props={captured.pop(id(msg), b'').hex()} repr={msg.properties!r}")
    conn.close()


def main():
    mode = sys.argv[1]
    if mode == "publish":
        publish(sys.argv[2], sys.argv[3])
    elif mode == "receive":
        receive(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
