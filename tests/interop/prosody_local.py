# purple-otr interop tests: a minimal private prosody for the potr peer's
# self-test (loopback only, no TLS, plain-file accounts). The end-to-end
# tests have their own, fuller harness in tests/e2e/harness.py.

import os
import shutil
import socket
import subprocess
import time

PROSODY = os.environ.get('POTR_PROSODY', '/usr/bin/prosody')

CONFIG = '''\
run_as_root = true
pidfile = "{dir}/prosody.pid"
data_path = "{dir}/data"
certificates = "{dir}/certs"
interfaces = {{ "127.0.0.1" }}
c2s_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
s2s_ports = {{ }}
modules_enabled = {{ "roster"; "saslauth"; "disco"; "ping"; "posix" }}
modules_disabled = {{ "s2s"; "tls"; "offline"; "admin_shell" }}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = "{dir}/prosody.log" }} }}
VirtualHost "{host}"
'''


def _die_with_parent():
    # prosody must not outlive a test that was killed (Linux only)
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except Exception:
        pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Prosody(object):
    def __init__(self, workdir, host='localhost'):
        self.dir = os.path.abspath(workdir)
        self.host = host
        self.port = None
        self.proc = None

    def start(self, timeout=10.0):
        for sub in ('data', 'certs'):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.port = free_port()
        cfg = os.path.join(self.dir, 'prosody.cfg.lua')
        with open(cfg, 'w') as f:
            f.write(CONFIG.format(dir=self.dir, port=self.port,
                                  host=self.host))
        self.proc = subprocess.Popen(
            [PROSODY, '--config', cfg], stdin=subprocess.DEVNULL,
            stdout=open(os.path.join(self.dir, 'prosody.out'), 'wb'),
            stderr=subprocess.STDOUT, close_fds=True,
            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError('prosody exited (%s); see %s'
                                   % (self.proc.returncode, self.dir))
            try:
                socket.create_connection(('127.0.0.1', self.port),
                                         timeout=0.5).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError('prosody did not listen on %d within '
                                       '%.0fs' % (self.port, timeout))
                time.sleep(0.05)

    def register(self, user, password):
        # internal_plain storage: data/<host>/accounts/<user>.dat (Lua table)
        accounts = os.path.join(self.dir, 'data',
                                self.host.replace('.', '%2e'), 'accounts')
        os.makedirs(accounts, exist_ok=True)
        quoted = password.replace('\\', '\\\\').replace('"', '\\"')
        with open(os.path.join(accounts, user + '.dat'), 'w') as f:
            f.write('return {\n\t["password"] = "%s";\n};\n' % quoted)

    def stop(self, timeout=5.0):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)
