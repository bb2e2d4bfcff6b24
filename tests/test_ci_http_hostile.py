"""What a hostile or broken server (or API answer) can do to the CI deploy
helpers (ops/ci_http.py, used by ops.wait_healthy and the deploy_* steps):

- a server that drips one byte at a time never trips the socket timeout; the
  request now has an overall deadline (before: it hung the job until the
  workflow's own timeout);
- JSON nested deeper than the parser goes raised RecursionError (a traceback);
- a URL with control characters (a service URL from an API answer) raised
  http.client.InvalidURL (a traceback);
- API text printed raw could start a line with `::`, which the Actions runner
  obeys as a workflow command (`::add-mask::`, `::error::`, `::stop-commands::`).

The servers are plain loopback sockets; nothing else is contacted.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from ops import ci_http, wait_healthy


def _serve(handler) -> tuple[str, socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))

    def loop():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}", server


def _drip(conn: socket.socket) -> None:
    conn.recv(65536)
    try:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
        while True:
            conn.sendall(b" ")
            time.sleep(0.2)
    except OSError:
        pass


def test_a_slow_drip_server_cannot_outlast_the_request_deadline():
    base, server = _serve(_drip)
    done: dict = {}

    def call():
        start = time.monotonic()
        try:
            ci_http.request_json("GET", base + "/startupz", timeout=2)
        except ci_http.DeployError as exc:
            done["error"] = str(exc)
        done["took"] = time.monotonic() - start

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(15)
    server.close()
    assert not worker.is_alive(), "the request was still reading a dripping answer after 15 s"
    assert done["took"] < 5 and "no complete answer within 2 s" in done["error"], done


def test_json_nested_too_deep_is_not_json_not_a_traceback():
    depth = 200_000
    body = b"[" * depth + b"]" * depth

    def deep(conn):
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        conn.close()

    base, server = _serve(deep)
    try:
        assert ci_http.request_json("GET", base + "/x", timeout=10) == (200, None)
    finally:
        server.close()


@pytest.mark.parametrize("url", ["https://claw.example.org/\nstartupz", "https://claw.example.org/startupz\x7f",
                                 "https://claw .example.org\r\n/startupz"])
def test_a_url_with_control_characters_fails_in_one_line(url, capsys):
    assert wait_healthy.main([url, "--timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("::error::") and "control characters" in err, err


def test_api_text_cannot_start_a_workflow_command(capsys):
    ci_http.say("::add-mask::x")
    ci_http.say("deploy status: building\n::stop-commands::pwned\r\n::error::fake")
    assert ci_http.main_guard(lambda: (_ for _ in ()).throw(
        ci_http.DeployError("HTTP 500 {\"message\": \"x\n::set-env name=NODE_OPTIONS::--require /tmp/x\"}"))) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines() + err.splitlines()
    assert [line for line in lines if line.startswith("::")] == [err.splitlines()[0]]
    assert len(err.splitlines()) == 1 and err.startswith("::error::HTTP 500")
    assert "\\x0a::stop-commands::pwned" in out


def test_poll_notes_from_an_answer_are_one_safe_line(capsys):
    answers = iter([(False, "HTTP 503 {\"x\": \"\n::add-mask::\"}"), (True, "HTTP 200")])
    ci_http.poll("GET https://h/startupz", lambda: next(answers), timeout=5, interval=0)
    assert not [line for line in capsys.readouterr().out.splitlines() if line.startswith("::")]
