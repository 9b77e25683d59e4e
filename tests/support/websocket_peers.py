#!/usr/bin/python3
"""Real WebSocket servers on loopback for squall's WebSocket client tests and examples.

Starts, in one asyncio loop (Debian's python3-websockets 10.4 and python3-tornado):
  websockets   plain ws://, permessage-deflate with context takeover (the library's default)
  nct          ws://, permessage-deflate with server_ and client_no_context_takeover, 10-bit server window
  plain        ws://, no compression offered back
  wss          wss:// with the given certificate (same routes)
  wss_mtls     wss:// that requires a client certificate signed by --ca
  tornado      Tornado's WebSocketHandler (compression on), at /echo and /close

and prints one line "ports websockets=P nct=P plain=P wss=P tornado=P", then serves until SIGTERM or, with
--watch-stdin, until stdin closes (the test process that started it exited).

Routes of the websockets servers (the path selects the behaviour):
  /echo            every message back with its type
  /close           after the first message, the server closes with 4001 "server says bye"
  /ping            the server pings with "are you there", waits for the pong, sends "pong received"
  /fragments       sends one text message in three fragments, then echoes
  /headers         sends the request headers as JSON, then echoes
  /reject          answered 403 with a body (handshake refused)
  /chat            a chat room: every text message is sent to every client in the room
Subprotocols offered to the servers: "chat" and "superchat" are accepted (server preference: superchat).

Usage: websocket_peers.py [--cert CERT --key KEY [--ca CA]] [--port-base N] [--watch-stdin]
"""
import argparse
import http
import asyncio
import json
import signal
import ssl
import sys

import websockets
import websockets.legacy.server
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

import tornado.httpserver
import tornado.netutil
import tornado.web
import tornado.websocket

MAX = 64 * 1024 * 1024


CHAT_ROOM = set()


async def handler(ws, path=None):
    path = ws.path.split("?")[0]
    try:
        if path == "/chat":
            CHAT_ROOM.add(ws)
            try:
                async for message in ws:
                    websockets.broadcast(CHAT_ROOM, message)
            finally:
                CHAT_ROOM.discard(ws)
            return
        if path == "/close":
            await ws.recv()
            await ws.close(4001, "server says bye")
            return
        if path == "/ping":
            waiter = await ws.ping(b"are you there")
            await asyncio.wait_for(waiter, 5)
            await ws.send("pong received")
        elif path == "/fragments":
            await ws.send(["frag-one ", "frag-two ", "frag-three"])
        elif path == "/headers":
            await ws.send(json.dumps({k: v for k, v in ws.request_headers.raw_items()}))
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def process_request(path, headers):
    if path.startswith("/reject"):
        return http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain"), ("X-Reason", "not allowed")], b"forbidden here\n"
    return None


def select_subprotocol(client, server):
    for p in ("superchat", "chat"):
        if p in client:
            return p
    return None


class TornadoEcho(tornado.websocket.WebSocketHandler):
    def get_compression_options(self):
        return {}

    def select_subprotocol(self, subprotocols):
        return "chat" if "chat" in subprotocols else None

    def on_message(self, message):
        if self.request.path == "/close":
            self.close(4002, "tornado says bye")
            return
        self.write_message(message, binary=isinstance(message, bytes))


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ca", help="CA of the client certificates wss_mtls accepts")
    ap.add_argument("--watch-stdin", action="store_true", help="exit at EOF on stdin")
    ap.add_argument("--port-base", type=int, default=0, help="fixed ports base, base+1... (0: any free)")
    args = ap.parse_args()

    def port(i):
        return args.port_base + i if args.port_base else 0

    common = dict(max_size=MAX, max_queue=4, process_request=process_request,
                  subprotocols=["superchat", "chat"], select_subprotocol=select_subprotocol,
                  ping_interval=None)

    servers = {}
    servers["websockets"] = await websockets.serve(handler, "127.0.0.1", port(0), **common)
    nct = ServerPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True,
                                         server_max_window_bits=10)
    servers["nct"] = await websockets.serve(handler, "127.0.0.1", port(1), extensions=[nct], compression=None,
                                            **common)
    servers["plain"] = await websockets.serve(handler, "127.0.0.1", port(2), compression=None, **common)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key or args.cert)
        servers["wss"] = await websockets.serve(handler, "127.0.0.1", port(3), ssl=ctx, **common)
        if args.ca:
            mtls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            mtls.load_cert_chain(args.cert, args.key or args.cert)
            mtls.verify_mode = ssl.CERT_REQUIRED
            mtls.load_verify_locations(args.ca)
            servers["wss_mtls"] = await websockets.serve(handler, "127.0.0.1", port(5), ssl=mtls, **common)

    app = tornado.web.Application([(r"/.*", TornadoEcho)], websocket_max_message_size=MAX)
    sockets = tornado.netutil.bind_sockets(port(4), "127.0.0.1")
    tornado.httpserver.HTTPServer(app).add_sockets(sockets)

    ports = {name: s.sockets[0].getsockname()[1] for name, s in servers.items()}
    ports["tornado"] = sockets[0].getsockname()[1]
    print("ports " + " ".join(f"{k}={v}" for k, v in ports.items()), flush=True)

    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    if args.watch_stdin:
        loop.add_reader(sys.stdin.fileno(), lambda: (sys.stdin.buffer.read1(4096) or stop.done() or stop.set_result(None)))
    await stop


if __name__ == "__main__":
    asyncio.run(main())
