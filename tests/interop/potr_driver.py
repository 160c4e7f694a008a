# purple-otr interop tests: the harness side of the potr peer's line protocol.
#
# No third-party imports here: this module is imported both by potr_peer.py
# (for escape/unescape) and by test scripts, whatever interpreter runs them.
#
# Line protocol (both directions): one line per command/event, fields
# separated by TAB, every field escaped with escape() (Python's
# "unicode_escape" codec: backslash, TAB, CR, LF, control and non-ASCII
# characters become \\, \t, \r, \n, \xNN, \uNNNN, \UNNNNNNNN), so a field
# never contains a TAB or a newline and the line is pure ASCII.

import os
import subprocess
import threading
import time

__all__ = ['escape', 'unescape', 'encode_line', 'decode_line', 'PotrPeer',
           'PeerError', 'PEER_SCRIPT', 'SYSTEM_PYTHON3']

PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'potr_peer.py')
# Debian's python3-potr/python3-slixmpp live in the system interpreter only
SYSTEM_PYTHON3 = os.environ.get('POTR_SYSTEM_PYTHON3', '/usr/bin/python3')


def escape(text):
    """str -> ASCII str without TAB/CR/LF; inverse of unescape()."""
    return str(text).encode('unicode_escape').decode('ascii')


def unescape(field):
    """Inverse of escape(). Also accepts raw (unescaped) non-ASCII text.
    Raises ValueError on a malformed escape (e.g. a trailing backslash)."""
    try:
        return field.encode('latin-1', 'backslashreplace') \
            .decode('unicode_escape')
    except UnicodeDecodeError as exc:
        raise ValueError('bad escape in %r: %s' % (field, exc)) from None


def encode_line(*fields):
    return '\t'.join(escape(f) for f in fields) + '\n'


def decode_line(line):
    line = line.rstrip('\r\n')
    return [unescape(f) for f in line.split('\t')]


class PeerError(AssertionError):
    pass


def _matches(fields, name, args):
    if not fields or fields[0] != name:
        return False
    if len(args) > len(fields) - 1:
        return False
    for want, have in zip(args, fields[1:]):
        if want is None:
            continue
        if callable(want):
            if not want(have):
                return False
        elif want != have:
            return False
    return True


class PotrPeer(object):
    """Runs potr_peer.py as a child process and talks its line protocol.

    Events are recorded in order; expect() returns (and consumes) the first
    not yet consumed event that matches, so events that arrive before the
    test asks for them are never lost. Every wait has a timeout."""

    def __init__(self, jid, password, port, keyfile, policy='opportunistic',
                 extra_args=(), log_path=None, name=None,
                 python=SYSTEM_PYTHON3, script=PEER_SCRIPT):
        self.jid = jid
        self.bare = jid.split('/', 1)[0]
        self.name = name or self.bare.split('@', 1)[0]
        self.argv = [python, script, '--jid', jid, '--password', password,
                     '--port', str(port), '--keyfile', keyfile,
                     '--policy', policy] + list(extra_args)
        self.log_path = log_path
        self.proc = None
        self.events = []          # list of field lists, in arrival order
        self._consumed = set()    # indices into self.events
        self._cond = threading.Condition()
        self._eof = False
        self._log = None
        self._reader = None
        self._stderr = None

    # -- process ----------------------------------------------------------
    def start(self):
        if self.log_path:
            self._log = open(self.log_path, 'a', encoding='utf-8')
            self._stderr = open(self.log_path + '.stderr', 'ab')
        env = dict(os.environ)
        env.setdefault('PYTHONDONTWRITEBYTECODE', '1')
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr if self._stderr else subprocess.DEVNULL,
            env=env, close_fds=True)
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name='potr-peer-%s' % self.name)
        self._reader.start()
        return self

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode('utf-8', 'replace')
            if self._log:
                self._log.write('< ' + line)
                self._log.flush()
            try:
                fields = decode_line(line)
            except ValueError:
                fields = ['unparsable', line]
            with self._cond:
                self.events.append(fields)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5.0):
        """Ask the peer to quit; kill it if it doesn't within timeout."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.command('quit')
            except (OSError, ValueError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        if self._reader:
            self._reader.join(timeout)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        for f in (self._log, self._stderr):
            if f:
                f.close()
        self._log = self._stderr = None
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    # -- commands ---------------------------------------------------------
    def command(self, *fields):
        line = encode_line(*fields)
        if self._log:
            self._log.write('> ' + line)
            self._log.flush()
        self.proc.stdin.write(line.encode('ascii'))
        self.proc.stdin.flush()

    def send(self, jid, text):
        self.command('send', jid, text)

    def send_raw(self, jid, text):
        self.command('send-raw', jid, text)

    def start_otr(self, jid):
        self.command('start', jid)

    def end_otr(self, jid):
        self.command('end', jid)

    def smp_ask(self, jid, secret, question=None):
        if question is None:
            self.command('smp-ask', jid, secret)
        else:
            self.command('smp-ask', jid, secret, question)

    def smp_respond(self, jid, secret):
        self.command('smp-respond', jid, secret)

    def smp_abort(self, jid):
        self.command('smp-abort', jid)

    def trust(self, jid, fingerprint, level='verified'):
        self.command('trust', jid, fingerprint, level)

    # -- events -----------------------------------------------------------
    def expect(self, name, *args, timeout=10.0):
        """Wait for the first unconsumed event NAME whose leading fields
        match ARGS (None = any, a callable = predicate, else equality).
        Returns the event's fields after the name."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, fields in enumerate(self.events):
                    if i not in self._consumed and \
                            _matches(fields, name, args):
                        self._consumed.add(i)
                        return fields[1:]
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    break
                self._cond.wait(left)
            recent = ['\t'.join(e) for e in self.events[-12:]]
        raise PeerError('%s: no event %r %r within %.1fs%s; last events:\n  %s'
                        % (self.name, name, args, timeout,
                           ' (peer exited)' if self._eof else '',
                           '\n  '.join(recent) or '(none)'))

    def drain(self, name=None):
        """Mark every event received so far (optionally only NAME) as
        consumed, so that later expect() calls only see newer ones."""
        with self._cond:
            for i, e in enumerate(self.events):
                if name is None or (e and e[0] == name):
                    self._consumed.add(i)

    def seen(self, name=None):
        """All events so far (consumed or not), optionally only NAME."""
        with self._cond:
            return [list(e) for e in self.events
                    if name is None or (e and e[0] == name)]

    def fingerprint(self, timeout=10.0):
        self.command('fingerprint')
        return self.expect('own-fingerprint', timeout=timeout)[0]
