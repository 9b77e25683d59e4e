#!/usr/bin/python3
"""A scriptable HTTP/2 server (h2c, prior knowledge) for squall's HTTP/2 client tests.

Each request's :path picks what the server does, including the ways a server can misbehave:

  /ok                  200, body "hello"; headers x-connection (1, 2, ... per accepted connection)
                       and x-stream (the stream id)
  /bytes/N             200 with N bytes ("0123456789" repeated), sent as the client's windows allow
  /echo                200, body "METHOD\n" followed by the request body
  /trailers            200, body "with trailers", trailer x-checksum: 1234
  /rst/CODE            RST_STREAM with CODE at once
  /rst-mid/CODE        headers and 5 bytes of body, then RST_STREAM with CODE
  /goaway-once         the first such request of the server's life: GOAWAY(last_stream_id=0) and the
                       connection closes (the request was not processed); later ones: as /ok
  /goaway-mid          headers and 5 bytes, then GOAWAY(last_stream_id=this stream, NO_ERROR) and close
  /big-headers/N       200 with a header of N bytes (in CONTINUATION frames as needed)
  /bad-frame           a SETTINGS frame of length 5 (FRAME_SIZE_ERROR: a connection error)
  /bad-hpack           a HEADERS frame whose block is not valid HPACK (COMPRESSION_ERROR)
  /unopened            DATA on stream 99, which the client never opened
  /window-overflow/N   N bytes of DATA in 16 KiB frames regardless of the client's window
  /bad-status          :status "abc"
  /length-mismatch     content-length: 10 with a 5-byte body
  /never               never answers this stream (the connection keeps serving others)
  /silent              stops reading and writing on this connection (a dead peer: no PING answer)

Usage: h2_test_server.py [--port P]   prints "PORT <port>" once listening; exits when stdin closes.
"""
import socket
import struct
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

lock = threading.Lock()
state = {"connections": 0, "goaway_once": 0}


def raw_frame(ftype, flags, stream_id, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream_id) + payload


class Connection:
    def __init__(self, sock, number):
        self.sock = sock
        self.number = number
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self.bodies = {}  # stream id -> request body so far
        self.requests = {}  # stream id -> headers dict
        self.pending = {}  # stream id -> bytes waiting for window
        self.closed = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def send_raw(self, data):
        self.flush()
        self.sock.sendall(data)

    def close(self):
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def respond(self, sid, status=200, headers=(), body=b"", trailers=None):
        hdrs = [(":status", str(status))] + list(headers)
        if trailers is None:
            hdrs.append(("content-length", str(len(body))))
        self.conn.send_headers(sid, hdrs, end_stream=(not body and trailers is None))
        if body or trailers is not None:
            self.pending[sid] = [body, trailers]
            self.pump(sid)
        self.flush()

    def pump(self, sid):
        """Sends what the flow-control windows allow of a pending body."""
        entry = self.pending.get(sid)
        if entry is None:
            return
        body, trailers = entry
        while body:
            window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if window <= 0:
                break
            chunk, body = body[:window], body[window:]
            self.conn.send_data(sid, chunk, end_stream=(not body and trailers is None))
        entry[0] = body
        if not body:
            if trailers is not None:
                self.conn.send_headers(sid, trailers, end_stream=True)
            del self.pending[sid]

    def handle(self, sid):
        headers = self.requests.pop(sid)
        body = self.bodies.pop(sid, b"")
        path = headers.get(":path", "/")
        method = headers.get(":method", "GET")
        parts = path.strip("/").split("/")
        kind = parts[0]
        arg = parts[1] if len(parts) > 1 else ""
        if kind == "ok":
            self.respond(sid, headers=[("x-connection", str(self.number)), ("x-stream", str(sid))], body=b"hello")
        elif kind == "bytes":
            n = int(arg)
            data = (b"0123456789" * (n // 10 + 1))[:n]
            self.respond(sid, body=data)
        elif kind == "echo":
            self.respond(sid, body=method.encode() + b"\n" + body)
        elif kind == "trailers":
            self.respond(sid, body=b"with trailers", trailers=[("x-checksum", "1234")])
        elif kind == "rst":
            self.conn.reset_stream(sid, int(arg))
            self.flush()
        elif kind == "rst-mid":
            self.conn.send_headers(sid, [(":status", "200")])
            self.conn.send_data(sid, b"12345")
            self.conn.reset_stream(sid, int(arg))
            self.flush()
        elif kind == "goaway-once":
            with lock:
                state["goaway_once"] += 1
                first = state["goaway_once"] == 1
            if first:
                self.send_raw(raw_frame(0x7, 0, 0, struct.pack(">II", 0, 0)))
                time.sleep(0.05)
                self.close()
            else:
                self.respond(sid, headers=[("x-connection", str(self.number))], body=b"hello")
        elif kind == "goaway-mid":
            self.conn.send_headers(sid, [(":status", "200")])
            self.conn.send_data(sid, b"12345")
            self.send_raw(raw_frame(0x7, 0, 0, struct.pack(">II", sid, 0)))
            time.sleep(0.05)
            self.close()
        elif kind == "big-headers":
            self.respond(sid, headers=[("x-big", "b" * int(arg))], body=b"big")
        elif kind == "bad-frame":
            self.send_raw(raw_frame(0x4, 0, 0, b"\x00\x01\x00\x00\x00"))
        elif kind == "bad-hpack":
            self.send_raw(raw_frame(0x1, 0x4, sid, b"\xff\xff\xff\xff\xff\xff\xff\xff"))
        elif kind == "unopened":
            self.send_raw(raw_frame(0x0, 0, 99, b"stray"))
        elif kind == "window-overflow":
            self.conn.send_headers(sid, [(":status", "200")])
            frames = b""
            n = int(arg)
            while n > 0:
                size = min(n, 16384)
                frames += raw_frame(0x0, 0, sid, b"x" * size)
                n -= size
            self.send_raw(frames)
        elif kind == "bad-status":
            self.send_raw(raw_frame(0x1, 0x5, sid, self.conn.encoder.encode([(":status", "abc")])))
        elif kind == "length-mismatch":
            self.conn.send_headers(sid, [(":status", "200"), ("content-length", "10")])
            self.flush()
            self.send_raw(raw_frame(0x0, 0x1, sid, b"12345"))
        elif kind == "never":
            pass
        elif kind == "silent":
            self.flush()
            while True:
                time.sleep(3600)
        else:
            self.respond(sid, status=404, body=b"not found")

    def run(self):
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100})
        self.flush()
        while not self.closed:
            try:
                data = self.sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            try:
                events = self.conn.receive_data(data)
            except h2.exceptions.ProtocolError:
                self.flush()
                break
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    self.requests[event.stream_id] = dict(event.headers)
                    if event.stream_ended:
                        self.handle(event.stream_id)
                elif isinstance(event, h2.events.DataReceived):
                    self.bodies[event.stream_id] = self.bodies.get(event.stream_id, b"") + event.data
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    if event.stream_ended:
                        self.handle(event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    if event.stream_id in self.requests:
                        self.handle(event.stream_id)
                elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
                    for sid in list(self.pending):
                        self.pump(sid)
                elif isinstance(event, h2.events.StreamReset):
                    self.pending.pop(event.stream_id, None)
                if self.closed:
                    break
            if self.closed:
                break
            self.flush()
        if not self.closed:
            self.close()


def serve(listener):
    while True:
        try:
            sock, _ = listener.accept()
        except OSError:
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with lock:
            state["connections"] += 1
            number = state["connections"]
        threading.Thread(target=lambda: run_connection(sock, number), daemon=True).start()


def run_connection(sock, number):
    try:
        Connection(sock, number).run()
    except (OSError, h2.exceptions.H2Error):
        try:
            sock.close()
        except OSError:
            pass


def main():
    port = 0
    if len(sys.argv) >= 3 and sys.argv[1] == "--port":
        port = int(sys.argv[2])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    print("PORT", listener.getsockname()[1], flush=True)
    threading.Thread(target=serve, args=(listener,), daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin (or dies)


if __name__ == "__main__":
    main()
