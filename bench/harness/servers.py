"""The servers benchmarks talk to, pinned to the server CPU (0): a program from the build directory (the
raw C echo server), the private nginx (scripts/nginx) or the private RabbitMQ (scripts/rabbitmq).

The scripts start their peers under `taskset -c 0`, so nginx's and the Erlang VM's threads inherit the
placement; a peer that was already running is re-pinned with `taskset -a -p`.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from spec import Server

SERVER_CPU = "0"
CLIENT_CPU = "1"
PEERS_DIR = Path(os.environ.get("SQUALL_PEERS_DIR", f"{os.environ.get('TMPDIR', '/tmp')}/squall-peers-{os.getuid()}"))
NGINX_BENCH_DIR = PEERS_DIR / "nginx-bench"
NGINX_BENCH_PORT = 18090
RABBITMQ_BENCH_NAME = "squall-bench"
RABBITMQ_BENCH_PORT = 5690


class ServerError(RuntimeError):
    pass


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _parse_exports(text: str) -> dict[str, str]:
    env = {}
    for line in text.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line[len("export "):].partition("=")
            env[key] = value.strip().strip('"')
    return env


def _pin_tree(pid: int) -> None:
    """Pins pid and its children (all threads) to the server CPU."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    todo = [pid]
    while todo:
        p = todo.pop()
        subprocess.run(["taskset", "-a", "-p", "-c", SERVER_CPU, str(p)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        todo.extend(children.get(p, []))


class RunningServer:
    """Context manager: starts the server on enter, stops it on exit; `context` fills command templates."""

    def __init__(self, server: Server, root: Path, build: Path, log) -> None:
        self.server, self.root, self.build, self.log = server, root, build, log
        self.context: dict[str, object] = {}
        self.placement = f"client cpu {CLIENT_CPU}"
        self._proc: subprocess.Popen | None = None
        self._stop: list[str] | None = None

    def missing(self) -> str | None:
        """Why this server cannot run (a program not built), or None."""
        if self.server.kind == "program":
            exe = Path(self.server.cmd[0].format(build=self.build, root=self.root, port=0))
            if not os.access(exe, os.X_OK):
                return f"{exe.relative_to(self.root) if exe.is_relative_to(self.root) else exe} not built"
        return None

    def __enter__(self) -> "RunningServer":
        kind = self.server.kind
        if kind is None:
            self.placement = f"no server; client cpu {CLIENT_CPU}"
            return self
        self.placement = f"server cpu {SERVER_CPU}, client cpu {CLIENT_CPU}"
        if kind == "program":
            self._start_program()
        elif kind == "nginx":
            self._start_script(["scripts/nginx", "start", "--dir", str(NGINX_BENCH_DIR), "--port",
                                str(NGINX_BENCH_PORT), "--no-tls", *self.server.options],
                               ["scripts/nginx", "stop", "--dir", str(NGINX_BENCH_DIR)])
            self.context.update(url=self.env["SQUALL_NGINX_URL"], port=self.env["SQUALL_NGINX_PORT"],
                                host="127.0.0.1", h2c_url=self.env.get("SQUALL_NGINX_H2C_URL", ""))
            _pin_tree(int((NGINX_BENCH_DIR / "nginx.pid").read_text().strip()))
        elif kind == "rabbitmq":
            self._start_script(["scripts/rabbitmq", "start", "--name", RABBITMQ_BENCH_NAME, "--port",
                                str(RABBITMQ_BENCH_PORT), "--fresh", *self.server.options],
                               ["scripts/rabbitmq", "stop", "--name", RABBITMQ_BENCH_NAME])
            self.context.update(amqp_url=self.env["SQUALL_AMQP_URL"], port=self.env["SQUALL_RABBITMQ_PORT"],
                                host="127.0.0.1")
            pid_file = Path(self.env["SQUALL_RABBITMQ_DIR"]) / "rabbitmq.pid"
            _pin_tree(int(pid_file.read_text().strip()))
        else:
            raise ServerError(f"unknown server kind {kind!r}")
        return self

    def _start_program(self) -> None:
        port = self.server.port
        if port_accepts(port):
            raise ServerError(f"port {port} is already in use; cannot start {self.server.cmd[0]}")
        cmd = [a.format(build=self.build, root=self.root, port=port) for a in self.server.cmd]
        self.log(f"server: taskset -c {SERVER_CPU} {' '.join(cmd)}")
        self._proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, *cmd], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 10
        while not port_accepts(port):
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise ServerError(f"{cmd[0]} exited with {self._proc.returncode}: {err.strip()[-300:]}")
            if time.monotonic() > deadline:
                self._kill_program()
                raise ServerError(f"{cmd[0]} did not accept on port {port} within 10 s")
            time.sleep(0.05)
        self.context.update(port=port, host="127.0.0.1")

    def _start_script(self, start: list[str], stop: list[str]) -> None:
        self.log(f"server: taskset -c {SERVER_CPU} {' '.join(start)}")
        done = subprocess.run(["taskset", "-c", SERVER_CPU, *start], cwd=self.root, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise ServerError(f"{' '.join(start)} failed: {done.stderr.strip()[-500:]}")
        self.env = _parse_exports(done.stdout)
        self._stop = stop

    def _kill_program(self) -> None:
        if self._proc and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()

    def __exit__(self, *exc) -> None:
        self._kill_program()
        if self._stop:
            subprocess.run(self._stop, cwd=self.root, capture_output=True, check=False)
