"""Smoke test: the real `guanxi serve` (gunicorn, production settings) on a file SQLite database."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

STARTUP_TIMEOUT = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def guanxi(*args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "guanxi", *args], env=env, check=True, timeout=timeout,
                          capture_output=True, text=True)


@pytest.fixture
def server(tmp_path):
    """A migrated GUANXI_HOME with one user, served by `guanxi serve --no-worker` on a free port."""
    env = {**os.environ, "GUANXI_HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": "guanxi.settings",
           "DJANGO_SUPERUSER_PASSWORD": "smoke-test-password-1"}
    env.pop("DATABASE_URL", None)  # the file SQLite database under GUANXI_HOME
    guanxi("migrate", "--no-input", "-v", "0", env=env)
    guanxi("createsuperuser", "--no-input", "--username", "smoke", "--email", "smoke@example.com", env=env)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "guanxi", "serve", "--no-worker", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            urllib.request.urlopen(f"{base}/accounts/login/", timeout=5)
            break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"guanxi serve did not start:\n{process.stdout.read()}")
            time.sleep(0.3)
    yield base, tmp_path
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("guanxi serve did not stop on Ctrl-C")


def test_serve_runs_with_csp_static_files_and_sign_in(server):
    base, home = server
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    # The sign-in page carries a CSP that allows no inline scripts.
    page = browser.open(f"{base}/accounts/login/", timeout=10)
    csp = page.headers["Content-Security-Policy"]
    html = page.read().decode()
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "'unsafe-inline'" not in script_src and "'self'" in script_src

    # Static files were collected into GUANXI_HOME and are served.
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', html).group(1)
    assert browser.open(base + stylesheet, timeout=10).status == 200
    assert (home / "static").is_dir()

    # Signing in lands on the dashboard, not back on the sign-in page.
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    form = urllib.parse.urlencode({"username": "smoke", "password": "smoke-test-password-1",
                                   "csrfmiddlewaretoken": csrf}).encode()
    request = urllib.request.Request(f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"})
    landed = browser.open(request, timeout=10)
    assert landed.status == 200 and "/accounts/login/" not in landed.url
    assert any(cookie.name == "sessionid" for cookie in jar)
