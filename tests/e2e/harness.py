# purple-otr - GPL-2.0-or-later
# End-to-end test harness: a private prosody on loopback (Prosody), headless
# libpurple clients driven over a line protocol (Client, see purple-client.c)
# and a tiny TAP producer (Tap). Runs with the system /usr/bin/python3 and
# only the standard library.
#
# Rules the harness keeps so tests stay fast and honest:
#  - nothing waits on a clock when it can wait on an event: every wait is
#    for a specific line from a client or from prosody, with a timeout, and
#    a timeout raises with the recent history in the message;
#  - every process is started in its own process group and killed (group and
#    all) when the test ends, whether it passed, failed or crashed;
#  - every file lives in a fresh temp dir (removed afterwards unless
#    POTR_KEEP_TMP=1).

import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import xml.etree.ElementTree as ET

DEFAULT_TIMEOUT = float(os.environ.get('POTR_E2E_TIMEOUT', '20'))
KEEP_TMP = os.environ.get('POTR_KEEP_TMP') == '1'
DEBUG = os.environ.get('POTR_E2E_DEBUG') == '1'             # events, timings
PURPLE_DEBUG = os.environ.get('POTR_E2E_PURPLE_DEBUG') == '1'  # libpurple log

PROSODY = os.environ.get('POTR_PROSODY') or shutil.which('prosody') \
    or '/usr/bin/prosody'
PROSODYCTL = os.environ.get('POTR_PROSODYCTL') or shutil.which('prosodyctl') \
    or '/usr/bin/prosodyctl'
PROSODY_LUA = '/usr/lib/prosody'
LUA = shutil.which('lua5.4') or '/usr/bin/lua5.4'


class HarnessError(Exception):
    """A wait timed out, a process died, or a command was refused."""


# ---------------------------------------------------------------------------
# process bookkeeping: everything we start is killed at exit

_live = set()          # objects with a .kill() method
_live_lock = threading.Lock()


def _register(obj):
    with _live_lock:
        _live.add(obj)


def _unregister(obj):
    with _live_lock:
        _live.discard(obj)


def cleanup_all():
    """Kill every client and server this process started (idempotent)."""
    with _live_lock:
        objs = list(_live)
    for obj in objs:
        try:
            obj.kill()
        except Exception:  # noqa: BLE001 - best effort at exit
            traceback.print_exc(file=sys.stderr)


def _on_signal(signum, frame):
    # make check's timeout or ^C: unwind through finally blocks, then atexit
    raise SystemExit(128 + signum)


def _at_exit():
    cleanup_all()
    if _run_dir_path is not None:
        _rmtree(_run_dir_path)


atexit.register(_at_exit)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        signal.signal(_sig, _on_signal)
    except (ValueError, OSError):  # not the main thread
        pass


def _killpg(proc, grace=5.0):
    """SIGTERM the process group, then SIGKILL what is left."""
    if proc is None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # the group may outlive its leader (e.g. a resolver child): sweep it
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _rmtree(path):
    if path and os.path.isdir(path):
        if KEEP_TMP:
            sys.stderr.write('# kept %s\n' % path)
        else:
            shutil.rmtree(path, ignore_errors=True)


_run_dir_path = None


def _run_dir():
    """A temp dir shared by everything this test process starts."""
    global _run_dir_path
    if _run_dir_path is None:
        _run_dir_path = tempfile.mkdtemp(prefix='potr-e2e-run-')
    return _run_dir_path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# line protocol escaping (purple-client.c: g_strcompress / g_strescape)

_SIMPLE_ESCAPES = {'b': 8, 'f': 12, 'n': 10, 'r': 13, 't': 9, 'v': 11,
                   '\\': 92, '"': 34}


def escape_field(text):
    """Escape one command field for g_strcompress (UTF-8 passes as is)."""
    out = []
    for ch in str(text):
        code = ord(ch)
        if ch == '\\':
            out.append('\\\\')
        elif ch == '\t':
            out.append('\\t')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif code < 0x20 or code == 0x7f:
            out.append('\\%03o' % code)
        else:
            out.append(ch)
    return ''.join(out)


def unescape_field(text):
    """Decode one event field written by g_strescape (octal = raw bytes)."""
    data = bytearray()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != '\\' or i + 1 >= n:
            data += ch.encode('utf-8', 'surrogateescape')
            i += 1
            continue
        nxt = text[i + 1]
        if nxt in '01234567':
            j = i + 1
            while j < n and j < i + 4 and text[j] in '01234567':
                j += 1
            data.append(int(text[i + 1:j], 8) & 0xff)
            i = j
        elif nxt in _SIMPLE_ESCAPES:
            data.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        else:
            data += nxt.encode('utf-8', 'surrogateescape')
            i += 2
    return data.decode('utf-8', 'replace')


class Event(object):
    """One line from purple-client: kind plus decoded string fields."""

    __slots__ = ('kind', 'fields', 'index', 'time')

    def __init__(self, kind, fields, index, when):
        self.kind = kind
        self.fields = fields
        self.index = index
        self.time = when

    def __getitem__(self, i):
        return self.fields[i]

    def __len__(self):
        return len(self.fields)

    def __repr__(self):
        return '%s %s' % (self.kind, ' | '.join(repr(f) for f in self.fields))

    # conveniences for "write CONV FLAGS WHO TEXT"
    @property
    def conv(self):
        return self.fields[0] if self.fields else ''

    @property
    def flags(self):
        return int(self.fields[1]) if self.kind == 'write' else 0

    @property
    def who(self):
        return self.fields[2] if self.kind == 'write' else ''

    @property
    def text(self):
        return self.fields[3] if self.kind == 'write' else ''


# PurpleMessageFlags (libpurple 2.x conversation.h)
MSG_SEND = 0x0001
MSG_RECV = 0x0002
MSG_SYSTEM = 0x0004
MSG_AUTO_RESP = 0x0008
MSG_ACTIVE_ONLY = 0x0010
MSG_NICK = 0x0020
MSG_NO_LOG = 0x0040
MSG_WHISPER = 0x0080
MSG_ERROR = 0x0200
MSG_DELAYED = 0x0400
MSG_RAW = 0x0800
MSG_IMAGES = 0x1000
MSG_NOTIFY = 0x2000
MSG_NO_LINKIFY = 0x4000
MSG_INVISIBLE = 0x8000


def bare_jid(jid):
    return jid.split('/', 1)[0]


def level(client, peer, value, **kw):
    """Wait until CLIENT's conversation with PEER reaches level VALUE."""
    return client.wait_for(('level', '^' + re.escape(peer), '^%s$' % value), **kw)


def line(client, peer, regex, **kw):
    """Wait for a line (matching REGEX) written into CLIENT's conversation
    with PEER."""
    return client.wait_for(('write', '^' + re.escape(peer), None, None, regex), **kw)


def lines(client, peer, regex, since=0):
    """The lines matching REGEX written into the conversation with PEER."""
    return [w for w in client.writes(peer, since=since) if re.search(regex, w.text)]


def levels(client, peer, since=0):
    """The levels the conversation with PEER went through."""
    return [e[1] for e in client.find(('level', '^' + re.escape(peer)), since=since)]


def close_clients(*clients):
    """Quit each client politely (a goodbye, a clean sign-off) and kill it
    whatever happened, so that a failing test still leaves no process."""
    for c in clients:
        try:
            c.quit()
        except HarnessError:
            pass
        finally:
            c.kill()


def quiet(*clients, timeout=3 * DEFAULT_TIMEOUT):
    """Barrier for messages that answer each other (key exchanges, a storm
    of them): settle rounds between CLIENTS (with xmpp-trace on) until a
    round in which none of them sent a message stanza."""
    deadline = time.monotonic() + timeout
    while True:
        marks = [c.mark() for c in clients]
        for c in clients:
            settle(c, *[o for o in clients if o is not c], timeout=timeout)
        if not any(c.find(('xmpp-out', '^<message'), since=m) for c, m in zip(clients, marks)):
            return
        if time.monotonic() > deadline:
            raise HarnessError('still exchanging messages after %.0fs' % timeout)


def settle(sender, *receivers, timeout=DEFAULT_TIMEOUT):
    """Barrier: afterwards everything SENDER sent before has been processed
    by the server and then by each receiver's libpurple (every `write` it
    caused is in their history). Use it before asserting that something
    did NOT arrive, instead of sleeping. (Work a plugin defers to a thread
    or timer, such as key generation, is not covered.)"""
    sender.flush(timeout=timeout)
    for r in receivers:
        r.flush(timeout=timeout)


def subscribe(a, b, timeout=DEFAULT_TIMEOUT):
    """Make two signed-on clients buddies with presence subscriptions both
    ways (roster entry, subscription request, accepted by the other side's
    auto-authorize, which stays on). Returns when each has seen the other
    come online (`buddy-signed-on`), so buddy-signed-on/off follow from then
    on."""
    mark_a, mark_b = a.mark(), b.mark()
    for c in (a, b):
        c.call('auto-authorize', '1', timeout=timeout)
    a.call('buddy-subscribe', b.bare_jid, timeout=timeout)
    b.wait_for(('authorized', '^' + re.escape(a.bare_jid)), timeout=timeout,
               since=mark_b)
    b.call('buddy-subscribe', a.bare_jid, timeout=timeout)
    a.wait_for(('authorized', '^' + re.escape(b.bare_jid)), timeout=timeout,
               since=mark_a)
    a.wait_for(('buddy-signed-on', '^%s$' % re.escape(b.bare_jid)),
               timeout=timeout, since=mark_a)
    b.wait_for(('buddy-signed-on', '^%s$' % re.escape(a.bare_jid)),
               timeout=timeout, since=mark_b)


def _matcher(spec):
    """A predicate from a callable or a (kind, regex-or-None, ...) tuple.

    Each regex is searched (re.search, DOTALL) in the field at the same
    position; None matches anything; missing fields never match."""
    if callable(spec):
        return spec
    if isinstance(spec, str):
        spec = (spec,)
    kind, patterns = spec[0], [None if p is None else re.compile(p, re.S)
                               for p in spec[1:]]

    def match(ev):
        if ev.kind != kind or len(ev.fields) < len(patterns):
            return False
        return all(p is None or p.search(f) is not None
                   for p, f in zip(patterns, ev.fields))
    return match


def _describe(spec):
    if callable(spec):
        return getattr(spec, '__name__', repr(spec))
    return repr(spec)


# ---------------------------------------------------------------------------
# Prosody

_PROSODY_CONFIG = '''\
-- generated by tests/e2e/harness.py for one test run
run_as_root = true
pidfile = "{dir}/prosody.pid"
data_path = "{dir}/data"
certificates = "{dir}/certs"
interfaces = {{ "127.0.0.1" }}
local_interfaces = {{ "127.0.0.1" }}
c2s_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
s2s_ports = {{ }}
modules_enabled = {{ "roster"; "saslauth"; "disco"; "carbons"; "mam";
                    "ping"; "posix" }}
modules_disabled = {{ "s2s"; "s2s_auth_certs"; "tls" }}
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
default_archive_policy = true
archive_expires_after = "never"
max_archive_query_results = 1000
log = {{
  {{ levels = {{ min = "{file_level}" }}, to = "file",
     filename = "{dir}/prosody.log" }};
  {{ levels = {{ min = "info" }}, to = "console" }};
}}
{extra}
VirtualHost "{host}"
'''

# Reads one prosody "list" store file (data/HOST/STORE/USER.list, written
# by util.datamanager as a series of `item(<serialized table>);` calls) with
# prosody's own Lua libraries, and prints it as JSON. Using Lua and
# util.stanza avoids re-implementing the serializer's quoting rules.
_ARCHIVE_DUMP_LUA = r'''
package.path = PROSODY .. "/?.lua;" .. package.path
package.cpath = PROSODY .. "/?.so;" .. package.cpath
local st = require "util.stanza"
local json = require "util.json"
local items = {}
local f = io.open(arg[1], "rb")
if f then
  local src = f:read("a"); f:close()
  local chunk = assert(load(src, "=" .. arg[1], "t",
                            { item = function(i) items[#items + 1] = i end }))
  chunk()
end
local out = {}
for _, it in ipairs(items) do
  local entry = { key = it.key, when = it.when, with = it.with }
  if it.name then entry.xml = tostring(st.deserialize(it)) end
  out[#out + 1] = entry
end
io.write(json.encode({ items = out, count = #out }))
'''


def _datamanager_encode(name):
    """util.datamanager's file-name encoding: %xx for every non-alnum byte."""
    return ''.join(chr(b) if chr(b).isascii() and chr(b).isalnum()
                   else '%%%02x' % b for b in name.encode('utf-8'))


class ArchivedMessage(object):
    """One stanza from a prosody archive store."""

    def __init__(self, entry):
        self.key = entry.get('key')
        self.when = entry.get('when')
        self.with_ = entry.get('with')
        self.xml = entry.get('xml', '')
        try:
            self.element = ET.fromstring(self.xml)
        except ET.ParseError:
            self.element = None

    def _child(self, local):
        if self.element is None:
            return None
        for child in self.element:
            tag = child.tag
            ns, _, name = tag[1:].partition('}') if tag.startswith('{') \
                else ('', '', tag)
            if name == local and ns in ('', 'jabber:client'):
                return child
        return None

    @property
    def body(self):
        """The <body> text, or None."""
        node = self._child('body')
        return None if node is None else (node.text or '')

    @property
    def attrs(self):
        return dict(self.element.attrib) if self.element is not None else {}

    def has_child(self, name, xmlns):
        """True if the stanza has a direct child {xmlns}name."""
        return self.element is not None and \
            self.element.find('{%s}%s' % (xmlns, name)) is not None

    def __repr__(self):
        return 'ArchivedMessage(%r)' % self.xml


class _Server(object):
    """A server program a test starts on a free loopback port: start()
    (tried again on another port if that one got taken meanwhile),
    stop(), and its output lines in .output. A subclass names the program
    (NAME), writes its configuration for self.port, gives its command line
    and says when it listens."""

    NAME = 'server'
    GRACE = 5.0          # seconds the program gets to stop before a kill

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _write_config(self):
        raise NotImplementedError

    def _command(self):
        raise NotImplementedError

    def _listening(self, timeout):
        raise NotImplementedError

    def _read_output(self, stream):
        for raw in iter(stream.readline, b''):
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            if DEBUG:
                sys.stderr.write('# [%s] %s\n' % (self.NAME, line))
            with self._cond:
                self.output.append(line)
                self._cond.notify_all()
        stream.close()
        with self._cond:
            self._cond.notify_all()

    def start(self, timeout=DEFAULT_TIMEOUT, attempts=5):
        for _ in range(attempts):
            self.port = free_port()
            self._write_config()
            with self._cond:
                self.output = []
            self.proc = subprocess.Popen(
                self._command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
            self._reader = threading.Thread(
                target=self._read_output, args=(self.proc.stdout,),
                name=self.NAME + '-output', daemon=True)
            self._reader.start()
            if self._listening(timeout):
                return self
            _killpg(self.proc)
            self.proc = None
        raise HarnessError('%s failed to start:\n%s' % (self.NAME, '\n'.join(self.output)))

    def stop(self):
        if self.proc is not None:
            _killpg(self.proc, grace=self.GRACE)
            self.proc = None
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        _rmtree(self.dir)
        _unregister(self)

    kill = stop


class Prosody(_Server):
    """A private prosody for one test: loopback only, c2s only, no TLS.

    Usage: with Prosody() as server: server.register('alice', 'pw') ...
    server.port is the c2s port; server.host the one virtual host."""

    NAME = 'prosody'
    GRACE = 10.0

    def __init__(self, host='localhost', extra_config='', start=True,
                 debug_log=True):
        self.host = host
        self.extra_config = extra_config
        self.file_level = 'debug' if debug_log else 'info'
        self.dir = tempfile.mkdtemp(prefix='potr-e2e-prosody-')
        self.data_dir = os.path.join(self.dir, 'data')
        self.config = os.path.join(self.dir, 'prosody.cfg.lua')
        self.port = None
        self.proc = None
        self.output = []
        self._cond = threading.Condition()
        self._reader = None
        os.makedirs(self.data_dir)
        os.makedirs(os.path.join(self.dir, 'certs'))
        _register(self)
        if start:
            self.start()

    @staticmethod
    def available():
        return os.access(PROSODY, os.X_OK) and os.access(PROSODYCTL, os.X_OK)

    def _write_config(self):
        with open(self.config, 'w') as f:
            f.write(_PROSODY_CONFIG.format(
                dir=self.dir, port=self.port, host=self.host,
                extra=self.extra_config, file_level=self.file_level))

    def _command(self):
        return [PROSODY, '--config', self.config, '-F']

    def _listening(self, timeout):
        ok = re.compile(r"Activated service 'c2s' on .*:%d\b" % self.port)
        bad = re.compile(r"Activated service 'c2s' on no ports|"
                         r"Failed to open server port|Error.*config", re.I)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self.output[seen:]:
                    if ok.search(line):
                        return True
                    if bad.search(line):
                        return False
                seen = len(self.output)
                if self.proc.poll() is not None:
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError('prosody did not start in %.0fs:\n%s'
                                       % (timeout, '\n'.join(self.output)))
                self._cond.wait(left)

    _SESSION_RE = re.compile(r'^(c2s[0-9a-f]+)\s+info\s+'
                             r'(Authenticated as (\S+)|Client disconnected)')

    def sessions(self, jid=None):
        """Authenticated c2s sessions still open, from prosody's own log
        lines: {session id: bare JID}; only those of JID if given."""
        live = {}
        with self._cond:
            lines = list(self.output)
        for line in lines:
            m = self._SESSION_RE.match(line)
            if m and m.group(3):
                live[m.group(1)] = bare_jid(m.group(3))
            elif m:
                live.pop(m.group(1), None)
        if jid is not None:
            live = {k: v for k, v in live.items() if v == bare_jid(jid)}
        return live

    def wait_sessions(self, jid, count, timeout=DEFAULT_TIMEOUT):
        """Wait until JID (bare) has exactly COUNT open sessions on the
        server, e.g. 0 after a logout or crash: the server has then noticed,
        and routes new messages to offline storage."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.sessions(jid)) != count:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc is None or \
                        self.proc.poll() is not None:
                    raise HarnessError(
                        'prosody: %s has %d sessions, waited for %d:\n%s'
                        % (jid, len(self.sessions(jid)), count,
                           '\n'.join(self.output[-20:])))
                self._cond.wait(left)

    def wait_offline(self, jid, timeout=DEFAULT_TIMEOUT):
        self.wait_sessions(jid, 0, timeout=timeout)

    def prosodyctl(self, *args, timeout=DEFAULT_TIMEOUT):
        """Run prosodyctl with this server's config; returns its output."""
        res = subprocess.run(
            [PROSODYCTL, '--config', self.config] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=timeout, start_new_session=True)
        out = res.stdout.decode('utf-8', 'replace')
        if res.returncode != 0:
            raise HarnessError('prosodyctl %s failed (%d):\n%s'
                               % (' '.join(args[:1]), res.returncode, out))
        return out

    def register(self, user, password):
        """Create an account; returns its bare JID."""
        self.prosodyctl('register', user, self.host, password)
        return '%s@%s' % (user, self.host)

    def befriend(self, user_a, user_b):
        """Make two registered users mutual roster contacts (subscription
        "both") by writing prosody's roster store before they sign on: they
        see each other online, as real buddies do (libotr tells a peer that
        a private conversation ended only when it believes the peer is
        logged in; per-buddy settings need a buddy too)."""
        folder = os.path.join(self.data_dir, _datamanager_encode(self.host), 'roster')
        os.makedirs(folder, exist_ok=True)
        for me, other in ((user_a, user_b), (user_b, user_a)):
            path = os.path.join(folder, _datamanager_encode(me) + '.dat')
            with open(path, 'w') as f:
                f.write('return {\n'
                        '\t["%s@%s"] = { ["subscription"] = "both"; '
                        '["groups"] = { }; };\n'
                        '\t[false] = { ["version"] = 1; ["pending"] = { }; };\n'
                        '};\n' % (other, self.host))

    def store_path(self, user, store='archive'):
        return os.path.join(self.data_dir, _datamanager_encode(self.host),
                            _datamanager_encode(store),
                            _datamanager_encode(user) + '.list')

    def archive(self, user, store='archive'):
        """Every stanza in USER's message archive (mod_mam, storage
        "internal"), oldest first, as ArchivedMessage objects (.xml, .body,
        .with_, .when, .element). Also reads other list stores, e.g.
        store='offline' for mod_offline's queue. Stanzas land in the archive
        while the server routes them, so after a client's `flush` event
        everything that client sent is there."""
        path = self.store_path(user, store)
        if not os.path.exists(path):
            return []
        script = 'PROSODY = %s\n%s' % (json.dumps(PROSODY_LUA),
                                       _ARCHIVE_DUMP_LUA)
        res = subprocess.run([LUA, '-', path], input=script.encode(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=DEFAULT_TIMEOUT)
        if res.returncode != 0:
            raise HarnessError('cannot read %s: %s' % (
                path, res.stderr.decode('utf-8', 'replace')))
        dump = json.loads(res.stdout.decode('utf-8'))
        items = dump.get('items') if dump.get('count') else []
        return [ArchivedMessage(e) for e in items]

    def archive_bodies(self, user, store='archive'):
        """The <body> texts of archive(user, store), oldest first."""
        return [m.body for m in self.archive(user, store) if m.body is not None]

    def stored_stanzas(self):
        """Every stanza in every list store of every user (archive,
        offline, ...): a list of (store, user, ArchivedMessage). For "no
        plaintext anywhere on the server" checks."""
        out = []
        host_dir = os.path.join(self.data_dir, _datamanager_encode(self.host))
        if not os.path.isdir(host_dir):
            return out
        for store in sorted(os.listdir(host_dir)):
            store_dir = os.path.join(host_dir, store)
            if not os.path.isdir(store_dir):
                continue
            for fn in sorted(os.listdir(store_dir)):
                if fn.endswith('.list'):
                    user = urllib.parse.unquote(fn[:-len('.list')])
                    store_name = urllib.parse.unquote(store)
                    out += [(store_name, user, m)
                            for m in self.archive(user, store_name)]
        return out

    def grep_data(self, needle):
        """Paths of server data files whose raw bytes contain needle.
        Byte-level only: the Lua serializer writes non-ASCII bytes as \\ddd
        escapes, so use stored_stanzas() for anything but plain ASCII."""
        if isinstance(needle, str):
            needle = needle.encode('utf-8')
        hits = []
        for dirpath, _, files in os.walk(self.data_dir):
            for fn in files:
                path = os.path.join(dirpath, fn)
                with open(path, 'rb') as f:
                    if needle in f.read():
                        hits.append(path)
        return hits

    def log_text(self):
        """prosody's log file (debug level unless debug_log=False)."""
        try:
            with open(os.path.join(self.dir, 'prosody.log'), 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''



# ---------------------------------------------------------------------------
# Client

def _default_builddir():
    """$POTR_BUILDDIR (set by make check), else the current directory if
    it holds a build, else the source tree (in-tree builds)."""
    env = os.environ.get('POTR_BUILDDIR')
    if env:
        return env
    if os.path.exists(os.path.join('tests', 'e2e', 'purple-client')):
        return os.getcwd()
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(here))


def client_binary():
    return os.path.join(_default_builddir(), 'tests', 'e2e', 'purple-client')


def plugin_dir():
    return os.environ.get('POTR_PLUGIN_DIR') or os.path.join(
        _default_builddir(), 'src', 'core', '.libs')


_ACCOUNTS_XML = '''<?xml version='1.0' encoding='UTF-8' ?>
<account version='1.0'>
 <account>
  <protocol>prpl-jabber</protocol>
  <name>{jid}</name>
  <password>{password}</password>
  <alias>{alias}</alias>
  <settings>
   <setting name='connect_server' type='string'>127.0.0.1</setting>
   <setting name='port' type='int'>{port}</setting>
   <setting name='connection_security' type='string'>opportunistic_tls</setting>
   <setting name='auth_plain_in_clear' type='bool'>1</setting>
   <setting name='ft_proxies' type='string'></setting>
  </settings>
  <settings ui='{ui}'>
   <setting name='auto-login' type='bool'>1</setting>
  </settings>
 </account>
</account>
'''


def accounts_xml(jid, password, port, ui, alias=''):
    """An accounts.xml for a real Pidgin (ui 'gtk-gaim') or Finch
    ('gnt-purple'): one XMPP account on this test's prosody, signing on by
    itself. The values are escaped here."""
    from xml.sax.saxutils import escape
    return _ACCOUNTS_XML.format(jid=escape(jid), password=escape(password), port=int(port),
                                ui=escape(ui), alias=escape(alias))


class Client(object):
    """One purple-client process: one XMPP account in its own userdir.

    Events are kept in order in self.events. wait_for() finds the first event
    matching a spec that no earlier wait_for() claimed, waiting for it if it
    hasn't arrived; `since=client.mark()` restricts it to events after a
    point. restart() keeps the userdir (keys, prefs, accounts survive)."""

    def __init__(self, name, jid, password, port, plugins=(), log=False,
                 plugin_dirs=None, extra_args=(), env=None, start=True):
        if isinstance(port, Prosody):
            port = port.port
        self.name = name
        self.jid = jid
        self.password = password
        self.port = port
        self.plugins = list(plugins)
        self.log = log
        self.plugin_dirs = list(plugin_dirs) if plugin_dirs is not None \
            else [plugin_dir()]
        self.extra_args = list(extra_args)
        self.extra_env = dict(env or {})
        self.dir = tempfile.mkdtemp(prefix='potr-e2e-%s-' % name)
        self.userdir = os.path.join(self.dir, 'purple')
        os.makedirs(self.userdir, mode=0o700)
        os.makedirs(os.path.join(self.dir, 'home'), mode=0o700)
        self.proc = None
        self.events = []
        self.old_events = []
        self.stderr_lines = []
        self._claimed = set()
        self._cond = threading.Condition()
        self._threads = []
        self._eof = False
        _register(self)
        if start:
            self.start()

    # -- process --------------------------------------------------------

    @property
    def bare_jid(self):
        return bare_jid(self.jid)

    def _env(self):
        env = dict(os.environ)
        for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY',
                    'all_proxy', 'ALL_PROXY', 'DISPLAY'):
            env.pop(var, None)
        env['HOME'] = os.path.join(self.dir, 'home')
        # libpurple is built with D-Bus and GStreamer (voice/video): keep it
        # off every real bus and sound server, and let all clients of this
        # run share one GStreamer registry (building it costs ~0.5 s)
        env['DBUS_SESSION_BUS_ADDRESS'] = 'unix:path=/nonexistent/potr-e2e'
        env['DBUS_SYSTEM_BUS_ADDRESS'] = 'unix:path=/nonexistent/potr-e2e'
        env['PULSE_SERVER'] = 'unix:/nonexistent/potr-e2e'
        env['GST_REGISTRY'] = os.path.join(_run_dir(), 'gst-registry.bin')
        # --enable-asan builds: libpurple, GStreamer and PulseAudio leak at
        # exit; leak reports would fail every quit. Errors still do.
        env.setdefault('ASAN_OPTIONS', 'detect_leaks=0')
        if PURPLE_DEBUG:
            env['PURPLE_CLIENT_DEBUG'] = '1'
        env.update(self.extra_env)
        return env

    def _argv(self):
        argv = [client_binary(), '--userdir', self.userdir,
                '--jid', self.jid, '--password', self.password,
                '--port', str(self.port)]
        for d in self.plugin_dirs:
            argv += ['--plugin-dir', d]
        for p in self.plugins:
            argv += ['--plugin', p]
        if self.log:
            argv.append('--log')
        return argv + self.extra_args

    def start(self, timeout=DEFAULT_TIMEOUT):
        """Start the process and wait for its `ready` event."""
        if self.proc is not None:
            raise HarnessError('%s: already running' % self.name)
        if not os.access(client_binary(), os.X_OK):
            raise HarnessError('no purple-client at %s (set POTR_BUILDDIR)'
                               % client_binary())
        with self._cond:
            self.old_events += self.events
            self.events = []
            self._claimed = set()
            self._eof = False
        self.proc = subprocess.Popen(
            self._argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=self._env(), start_new_session=True,
            close_fds=True)
        self._threads = [
            threading.Thread(target=self._read_events, args=(self.proc,),
                             name='%s-events' % self.name, daemon=True),
            threading.Thread(target=self._read_stderr, args=(self.proc,),
                             name='%s-stderr' % self.name, daemon=True)]
        for t in self._threads:
            t.start()
        self.wait_for('ready', timeout=timeout)
        return self

    def _read_events(self, proc):
        for raw in iter(proc.stdout.readline, b''):
            line = raw.decode('ascii', 'replace').rstrip('\n')
            parts = line.split('\t')
            with self._cond:
                ev = Event(parts[0], [unescape_field(p) for p in parts[1:]],
                           len(self.events), time.monotonic())
                self.events.append(ev)
                self._cond.notify_all()
            if DEBUG:
                sys.stderr.write('# [%s] %r\n' % (self.name, ev))
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def _read_stderr(self, proc):
        for raw in iter(proc.stderr.readline, b''):
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            with self._cond:
                self.stderr_lines.append(line)
            sys.stderr.write('# [%s stderr] %s\n' % (self.name, line))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_cmd(self, *fields):
        """Send one command line (fields are escaped here); no waiting."""
        self.send_cmds(fields)

    def send_cmds(self, *commands):
        """Send several command lines (tuples of fields) in one write."""
        if not self.alive():
            raise HarnessError('%s: not running (exit %s)\n%s' % (
                self.name, None if self.proc is None else self.proc.poll(),
                self._recent()))
        data = ''.join('\t'.join(escape_field(f) for f in fields) + '\n'
                       for fields in commands)
        try:
            self.proc.stdin.write(data.encode('utf-8'))
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise HarnessError('%s: stdin closed\n%s'
                               % (self.name, self._recent()))

    def call(self, *fields, timeout=DEFAULT_TIMEOUT):
        """Send a command and wait for its `ok`; raise on `error`."""
        since = self.mark()
        self.send_cmd(*fields)
        name = fields[0]
        ev = self.wait_for(
            lambda e: e.kind in ('ok', 'error') and e.fields[:1] == [name],
            timeout=timeout, since=since)
        if ev.kind == 'error':
            raise HarnessError('%s: %s failed: %s' % (
                self.name, name, ev.fields[1] if len(ev) > 1 else ''))
        return ev

    # -- events ---------------------------------------------------------

    def mark(self):
        """Position after the last event received so far (for since=)."""
        with self._cond:
            return len(self.events)

    def _recent(self, n=30):
        with self._cond:
            evs = self.events[-n:]
            err = self.stderr_lines[-10:]
        lines = ['  %4d %r' % (e.index, e) for e in evs]
        if err:
            lines.append('  stderr:')
            lines += ['    ' + s for s in err]
        return '\n'.join(lines)

    def wait_for(self, spec, timeout=DEFAULT_TIMEOUT, since=0):
        """Return (and claim) the first unclaimed event at index >= since
        that matches spec, waiting up to timeout seconds for it.

        spec: a callable(Event) -> bool, a kind string, or a tuple
        (kind, regex-or-None, ...) matched field by field with re.search.
        Raises HarnessError with the last 30 events on timeout or if the
        client exits first."""
        pred = _matcher(spec)
        deadline = time.monotonic() + timeout
        pos = since
        with self._cond:
            while True:
                for ev in self.events[pos:]:
                    if ev.index not in self._claimed and pred(ev):
                        self._claimed.add(ev.index)
                        return ev
                pos = max(pos, len(self.events))
                if self._eof:
                    why = 'exited (%s)' % (self.proc.poll() if self.proc
                                           else '?')
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    why = 'timed out after %.0fs' % timeout
                    break
                self._cond.wait(left)
        raise HarnessError('%s: %s waiting for %s; last events:\n%s' % (
            self.name, why, _describe(spec), self._recent()))

    def find(self, spec, since=0):
        """Every event matching spec at index >= since (no waiting, no
        claiming): for asserting that something did NOT happen."""
        pred = _matcher(spec)
        with self._cond:
            return [e for e in self.events[since:] if pred(e)]

    def writes(self, conv=None, since=0):
        """The `write` events (lines written into conversations), optionally
        only those of one conversation: conv matches the conversation name
        exactly, or, given a bare JID, any resource of it."""
        def pred(e):
            if e.kind != 'write':
                return False
            if conv is None:
                return True
            return e.conv == conv or ('/' not in conv
                                      and bare_jid(e.conv) == conv)
        return self.find(pred, since)

    # -- common sequences -----------------------------------------------

    def login(self, timeout=DEFAULT_TIMEOUT):
        """Sign on; returns the signed-on event, raises on conn-error."""
        since = self.mark()
        self.send_cmd('login')
        ev = self.wait_for(lambda e: e.kind in ('signed-on', 'conn-error'),
                           timeout=timeout, since=since)
        if ev.kind == 'conn-error':
            raise HarnessError('%s: connection error: %s\n%s'
                               % (self.name, ev[0], self._recent()))
        return ev

    def logout(self, timeout=DEFAULT_TIMEOUT):
        """Sign off (the account stays enabled); waits for signed-off."""
        since = self.mark()
        self.call('logout', timeout=timeout)
        return self.wait_for('signed-off', timeout=timeout, since=since)

    def flush(self, timeout=DEFAULT_TIMEOUT):
        """Round-trip to the server: afterwards every stanza this client
        sent before has been processed (routed, archived) by prosody."""
        since = self.mark()
        self.call('flush', timeout=timeout)
        return self.wait_for('flushed', timeout=timeout, since=since)

    def send(self, buddy, html, timeout=DEFAULT_TIMEOUT):
        """Send an IM (HTML, as Pidgin would: 'a &lt; b')."""
        return self.call('send', buddy, html, timeout=timeout)

    def command(self, buddy, cmdline, timeout=DEFAULT_TIMEOUT):
        """Run a slash command (without the slash); returns (status, error)."""
        since = self.mark()
        self.call('cmd', buddy, cmdline, timeout=timeout)
        ev = self.wait_for('cmd-result', timeout=timeout, since=since)
        return ev[0], ev[1]

    # -- shutdown -------------------------------------------------------

    def quit(self, timeout=DEFAULT_TIMEOUT):
        """Quit through purple_core_quit (plugins unload, last stanzas are
        flushed); raises if the process doesn't exit 0 in time."""
        if self.proc is None:
            return
        proc = self.proc
        try:
            if proc.poll() is None:
                try:
                    self.send_cmd('quit')
                except HarnessError:
                    pass
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _killpg(proc)
            raise HarnessError('%s: did not quit in %.0fs\n%s'
                               % (self.name, timeout, self._recent()))
        finally:
            self._reap()
        if rc != 0:
            raise HarnessError('%s: exit status %d\n%s'
                               % (self.name, rc, self._recent()))

    def restart(self, timeout=DEFAULT_TIMEOUT):
        """quit() then start() with the same userdir and options."""
        self.quit(timeout=timeout)
        return self.start(timeout=timeout)

    def _reap(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        _killpg(proc, grace=2.0)   # leftovers in the group, if any
        for t in self._threads:
            t.join(timeout=5)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def crash(self):
        """SIGKILL the client (no quit, no goodbye stanzas): the server sees
        the connection drop. The userdir stays; start() runs it again."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self._reap()

    def kill(self):
        """Stop the process at once (closing stdin first gives it a chance
        to quit cleanly) and remove the temp dir."""
        if self.proc is not None:
            try:
                self.proc.stdin.close()
            except (OSError, ValueError):
                pass
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
            self._reap()
        _rmtree(self.dir)
        _unregister(self)

    def logs(self):
        """Text of every conversation log under userdir/logs (with --log)."""
        out = {}
        root = os.path.join(self.userdir, 'logs')
        for dirpath, _, files in os.walk(root):
            for fn in files:
                path = os.path.join(dirpath, fn)
                with open(path, 'rb') as f:
                    out[os.path.relpath(path, root)] = \
                        f.read().decode('utf-8', 'replace')
        return out


# ---------------------------------------------------------------------------
# TAP

class Tap(object):
    """A small TAP producer.

        tap = Tap()
        tap.ok(cond, 'name', diag='shown when it fails')
        tap.run('name', func, timeout=60)   # func(tap) may call tap.ok
        tap.done()                           # prints the plan, exits

    run() executes one test function in a worker thread with its own
    timeout: an exception is `not ok` with the traceback as diagnostics, a
    timeout is `not ok` and every process is killed so the file can't hang.
    """

    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.count = 0
        self.failed = 0
        self._lock = threading.Lock()

    def _print(self, text):
        with self._lock:
            self.out.write(text + '\n')
            self.out.flush()

    def diag(self, text):
        for line in str(text).splitlines() or ['']:
            self._print('# ' + line)

    def ok(self, cond, name, diag=None):
        self.count += 1
        name = name.replace('#', '\\#').replace('\n', ' ')
        if cond:
            self._print('ok %d - %s' % (self.count, name))
        else:
            self.failed += 1
            self._print('not ok %d - %s' % (self.count, name))
            if diag:
                self.diag(diag)
        return bool(cond)

    def is_(self, got, expected, name):
        return self.ok(got == expected, name,
                       'got:      %r\nexpected: %r' % (got, expected))

    def skip(self, name, reason):
        self.count += 1
        self._print('ok %d - %s # SKIP %s' % (self.count, name, reason))

    def run(self, name, func, timeout=120, *args, **kwargs):
        """Run func(tap, *args, **kwargs); `ok` unless it raises or hangs.

        Assertions inside func are their own tap.ok() lines; run() adds one
        more line for the function itself."""
        result = {}

        def target():
            try:
                func(self, *args, **kwargs)
                result['ok'] = True
            except BaseException:  # noqa: BLE001 - report everything
                result['tb'] = traceback.format_exc()

        worker = threading.Thread(target=target, name='test-' + name,
                                  daemon=True)
        started = time.monotonic()
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            cleanup_all()           # unblocks the worker's waits
            worker.join(10)
            return self.ok(False, name, 'timed out after %ds' % timeout)
        if DEBUG:
            self.diag('%s: %.2fs' % (name, time.monotonic() - started))
        return self.ok('ok' in result, name, result.get('tb'))

    def skip_all(self, reason):
        self._print('1..0 # SKIP %s' % reason)
        sys.exit(0)

    def bail_out(self, reason):
        self._print('Bail out! %s' % reason)
        cleanup_all()
        sys.exit(1)

    def done(self):
        self._print('1..%d' % self.count)
        cleanup_all()
        sys.exit(1 if self.failed else 0)


# ---------------------------------------------------------------------------
# IRC: a private ngircd on loopback, and purple-clients with IRC accounts

NGIRCD = os.environ.get('POTR_NGIRCD') or shutil.which('ngircd') \
    or '/usr/sbin/ngircd'

_NGIRCD_CONFIG = '''\
# generated by tests/e2e/harness.py for one test run
[Global]
Name = irc.potr.test
Info = purple-otr test server
Listen = 127.0.0.1
Ports = {port}
PidFile = {dir}/ngircd.pid
MotdPhrase = "purple-otr test server"
ServerUID = {uid}
ServerGID = {gid}
[Limits]
MaxNickLength = 30
MaxConnectionsIP = 0
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 600
[Options]
DNS = no
Ident = no
PAM = no
SyslogFacility =
'''


class Ngircd(_Server):
    """A private ngircd for one test: loopback only, no DNS, ident or PAM
    lookups, no flood penalties (the clients are fast, not abusive).

    Usage: with Ngircd() as server: ... server.port is the client port."""

    NAME = 'ngircd'

    def __init__(self, start=True):
        self.dir = tempfile.mkdtemp(prefix='potr-e2e-ngircd-')
        self.config = os.path.join(self.dir, 'ngircd.conf')
        self.port = None
        self.proc = None
        self.output = []
        self._cond = threading.Condition()
        self._reader = None
        _register(self)
        if start:
            self.start()

    @staticmethod
    def available():
        return os.access(NGIRCD, os.X_OK)

    def _write_config(self):
        with open(self.config, 'w') as f:
            f.write(_NGIRCD_CONFIG.format(port=self.port, dir=self.dir,
                                          uid=os.getuid(), gid=os.getgid()))

    def _command(self):
        return [NGIRCD, '--nodaemon', '--config', self.config]

    def _listening(self, timeout):
        """Wait until the port accepts a connection (or ngircd exits)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(('127.0.0.1', self.port), 1):
                    return True
            except OSError:
                # not listening yet: wait on the process, not on a clock
                try:
                    self.proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
        return False


def irc_client(name, server, nick=None, **kwargs):
    """A purple-client with one IRC account, NICK@127.0.0.1 (nick: NAME),
    on SERVER (an Ngircd). Its `flush` is an IRC PING; `irc-trace 1` makes
    it print every line the server relays to it (`irc-in` events)."""
    extra = ['--protocol', 'prpl-irc'] + list(kwargs.pop('extra_args', ()))
    return Client(name, '%s@127.0.0.1' % (nick or name), '', server.port,
                  extra_args=extra, **kwargs)
