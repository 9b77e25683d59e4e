#!/usr/bin/python3
"""py-amqp side of squall's codec interop tests (tests/amqp/test_codec_pyamqp.cpp).

Uses Debian's python3-amqp (amqp.serialization) to encode field tables and basic properties, or to decode
bytes squall encoded, and prints the result on one line: hex for bytes, repr() for decoded values.

usage: pyamqp_codec.py encode-table | encode-properties | decode-table HEX | decode-properties HEX
"""

import sys
from datetime import datetime
from decimal import Decimal

from amqp.basic_message import Message
from amqp.serialization import dumps, loads

# Every value type py-amqp writes (see _write_item): str and bytes as 'S', bool 't', float 'd', int 'I' or
# (beyond +-2147483647) 'L', Decimal 'D', datetime 'T', dict 'F', list 'A', None 'V'.
TABLE = {
    "str": "hello w\u00f6rld",
    "bytes": b"\x00\x01\xfe\xff",
    "empty": "",
    "true": True,
    "false": False,
    "int": -123456,
    "int_max": 2147483647,
    "int_min": -2147483648,  # py-amqp writes 'L' for it: its 'I' range stops at -2147483647
    "big": 1 << 40,
    "neg_big": -(1 << 40),
    "float": 2.5,
    "decimal": Decimal("-3.14"),
    "timestamp": datetime(2023, 1, 2, 3, 4, 5),
    "nested": {"a": 1, "list": [1, "two", None, {"x": True}]},
    "array": [1, 2.5, "three", [], {}],
    "void": None,
}

PROPERTIES = dict(
    content_type="application/json",
    content_encoding="utf-8",
    application_headers={"x-retry": 3, "x-origin": "py-amqp", "x-big": 1 << 40},
    delivery_mode=2,
    priority=7,
    correlation_id="corr-1",
    reply_to="amq.rabbitmq.reply-to",
    expiration="60000",
    message_id="msg-42",
    timestamp=1672628645,
    type="order.created",
    user_id="guest",
    app_id="squall-tests",
    cluster_id="c1",
)


def main():
    mode = sys.argv[1]
    if mode == "encode-table":
        print(dumps("F", [TABLE]).hex())
    elif mode == "encode-properties":
        print(Message(**PROPERTIES)._serialize_properties().hex())
    elif mode == "decode-table":
        buf = bytes.fromhex(sys.argv[2])
        (table,), offset = loads("F", buf, 0)
        assert offset == len(buf), (offset, len(buf))
        print(repr(table))
    elif mode == "decode-properties":
        buf = bytes.fromhex(sys.argv[2])
        msg = Message()
        offset = msg._load_properties(60, buf, 0)
        assert offset == len(buf), (offset, len(buf))
        print(repr(msg.properties))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
