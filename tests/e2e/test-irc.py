# purple-otr - GPL-2.0-or-later (see COPYING)
# End-to-end tests of OTR over IRC on a real server (ngircd on loopback):
# two purple-otr clients (libpurple's IRC) start OTR, talk both ways, send
# a 2000-character message in fragments, verify each other (SMP) and end;
# every line the server relays fits IRC's 512 bytes, and the OTR query
# shows nothing spurious on the other side. Then the same with irssi and
# irssi-plugin-otr as the peer (in a private tmux server).

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Ngircd, Tap, irc_client  # noqa: E402

OTR = 'core-purple-otr'
NOT_PRIVATE, UNVERIFIED, PRIVATE, FINISHED = '0', '1', '2', '3'
SMP_ASK_FOR_SECRET, SMP_SUCCESS = '5', '7'
IRC_LINE_MAX = 512          # with the CRLF, which libpurple strips
# the longest nicks the server allows (30): the prefix it puts before a
# relayed line is then as long as it gets on common networks
ALICE = ('alice_' + 'a' * 30)[:30]
BOB = ('bob_' + 'b' * 30)[:30]
LONG = ''.join('%04d:' % i + 'x' * 15 for i in range(100))   # 2000 characters


def level(client, peer, value, **kw):
    return client.wait_for(('level', '^' + re.escape(peer) + '$', '^%s$' % value), **kw)


def said(client, peer, text, since=0, **kw):
    """Wait for a received message from PEER that is exactly TEXT."""
    return client.wait_for(lambda e: e.kind == 'write' and e.conv == peer
                           and e.flags & harness.MSG_RECV and e.text == text,
                           since=since, **kw)


def relayed(client, sender):
    """The PRIVMSG lines from SENDER that the server relayed to CLIENT."""
    pat = re.compile(r'^:%s!\S+ PRIVMSG ' % re.escape(sender))
    return [e[0] for e in client.find('irc-in') if pat.match(e[0])]


def test_purple_pair(tap):
    with Ngircd() as server:
        alice = irc_client('alice', server, nick=ALICE, plugins=[OTR])
        bob = irc_client('bob', server, nick=BOB, plugins=[OTR])
        try:
            for c in (alice, bob):
                c.login()
                c.call('irc-trace', '1')
            alice.command(BOB, 'otr start')
            level(alice, BOB, UNVERIFIED, timeout=40)
            level(bob, ALICE, UNVERIFIED, timeout=40)
            queries = [l for l in relayed(bob, ALICE) if '?OTRv' in l]
            tap.is_(len(queries), 1, 'the OTR query is one IRC line')
            shown = [w.text for w in bob.writes(ALICE) if w.flags & harness.MSG_RECV]
            tap.is_(shown, [], "bob's client shows nothing of the query as chat")

            alice.send(BOB, 'hello bob, over IRC')
            said(bob, ALICE, 'hello bob, over IRC')
            bob.send(ALICE, 'hello alice &amp; all')
            said(alice, BOB, 'hello alice &amp; all')
            tap.ok(True, 'messages both ways')

            mark = len(relayed(bob, ALICE))
            alice.send(BOB, LONG)
            said(bob, ALICE, LONG)
            harness.settle(alice, bob)
            frags = [l for l in relayed(bob, ALICE)[mark:] if '?OTR|' in l]
            tap.ok(len(frags) >= 5, 'the 2000-character message went in fragments and arrived whole',
                   '%d fragments' % len(frags))

            alice.command(BOB, 'otr smp ask the harbour at dawn')
            bob.wait_for(('smp', '^%s$' % ALICE, '^%s$' % SMP_ASK_FOR_SECRET), timeout=30)
            bob.command(ALICE, 'otr smp respond the harbour at dawn')
            level(alice, BOB, PRIVATE, timeout=30)
            level(bob, ALICE, PRIVATE, timeout=30)
            tap.ok(True, 'SMP over IRC: both verified')

            alice.command(BOB, 'otr end')
            level(alice, BOB, NOT_PRIVATE)
            level(bob, ALICE, FINISHED)
            tap.ok(True, 'alice ends it: bob is told (Finished)')

            harness.settle(alice, bob)
            harness.settle(bob, alice)
            lines = relayed(bob, ALICE) + relayed(alice, BOB)
            longest = max(len(l.encode('utf-8')) + 2 for l in lines)
            tap.diag('%d lines relayed, the longest %d bytes with its CRLF' % (len(lines), longest))
            tap.ok(longest <= IRC_LINE_MAX, 'every relayed line fits 512 bytes with the server\'s prefix')
        finally:
            harness.close_clients(alice, bob)


IRSSI = shutil.which('irssi') or '/usr/bin/irssi'
IRSSI_OTR = '/usr/lib/x86_64-linux-gnu/irssi/modules/libotr_core.so'
TMUX = shutil.which('tmux') or '/usr/bin/tmux'

_IRSSI_CONFIG = """\
servers = ( { address = "127.0.0.1"; chatnet = "test"; port = "%(port)d";
              autoconnect = "yes"; use_tls = "no"; tls_verify = "no"; } );
chatnets = { test = { type = "IRC"; }; };
settings = {
  core = { real_name = "%(nick)s"; user_name = "%(nick)s"; nick = "%(nick)s"; };
  "fe-common/core" = { autolog = "yes"; autolog_level = "all";
                       autolog_path = "%(home)s/logs/$0.log"; };
};
"""


class Irssi(object):
    """irssi with its OTR module, in a private tmux server (its own socket
    and home): commands are typed into it, what it shows is read from its
    logs (one per query, every level) and from the screen."""

    def __init__(self, nick, server):
        self.nick = nick
        self.home = tempfile.mkdtemp(prefix='potr-e2e-irssi-')
        self.socket = 'potr-e2e-%d-%s' % (os.getpid(), nick)
        os.makedirs(os.path.join(self.home, 'logs'))
        with open(os.path.join(self.home, 'config'), 'w') as f:
            f.write(_IRSSI_CONFIG % {'port': server.port, 'nick': nick, 'home': self.home})
        with open(os.path.join(self.home, 'startup'), 'w') as f:
            # no flood protection against a loopback server: irssi would
            # send a fragment every 2.2 s after the first five lines
            f.write('set cmd_queue_speed 0\nset cmds_max_at_once 1000\nload otr\n')
        env = dict(os.environ, HOME=self.home, TERM='screen')
        subprocess.run([TMUX, '-L', self.socket, '-f', '/dev/null', 'new-session', '-d',
                        '-s', 'irssi', '-x', '200', '-y', '50',
                        '%s --home=%s' % (IRSSI, self.home)], env=env, check=True, timeout=20)

    @staticmethod
    def available():
        return all(os.access(p, os.X_OK) for p in (IRSSI, TMUX)) and os.path.exists(IRSSI_OTR)

    def type(self, line):
        subprocess.run([TMUX, '-L', self.socket, 'send-keys', '-t', 'irssi', '-l', line],
                       check=True, timeout=10)
        subprocess.run([TMUX, '-L', self.socket, 'send-keys', '-t', 'irssi', 'Enter'],
                       check=True, timeout=10)

    def screen(self):
        res = subprocess.run([TMUX, '-L', self.socket, 'capture-pane', '-p', '-t', 'irssi',
                              '-S', '-500'], stdout=subprocess.PIPE, timeout=10)
        return res.stdout.decode('utf-8', 'replace')

    def log(self, peer):
        try:
            with open(os.path.join(self.home, 'logs', peer + '.log'), 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def wait(self, what, cond, timeout=harness.DEFAULT_TIMEOUT):
        """Wait until COND() is true: irssi tells nothing but its screen and
        files, so they are read again until it is or the time is up."""
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise harness.HarnessError('irssi: timed out waiting for %s; screen:\n%s'
                                           % (what, self.screen()))
            time.sleep(0.1)

    def kill(self):
        subprocess.run([TMUX, '-L', self.socket, 'kill-server'], timeout=10,
                       stderr=subprocess.DEVNULL)
        harness._rmtree(self.home)


def test_irssi_peer(tap):
    with Ngircd() as server:
        alice = irc_client('alice', server, plugins=[OTR])
        carol = Irssi('carol', server)
        try:
            alice.login()
            alice.call('irc-trace', '1')
            carol.wait('carol signed on', lambda: 'End of MOTD' in carol.screen())
            # irssi names its key after the server's tag; made before the
            # key exchange needs it (irssi drops the exchange while it makes one)
            carol.type('/otr genkey test')
            carol.wait('her key', lambda: 'key generation for test completed' in carol.screen(),
                       timeout=60)

            alice.command('carol', 'otr start')
            level(alice, 'carol', UNVERIFIED, timeout=40)
            carol.wait('her side private', lambda: 'Session secured' in carol.log('alice'))
            log = carol.log('alice')
            tap.ok('?OTR' not in log and 'does not support' not in log,
                   'irssi-otr shows nothing of the OTR query', log)

            alice.send('carol', LONG)
            carol.wait('the long message', lambda: LONG in carol.log('alice'))
            tap.ok(True, 'irssi-otr reads a padded 2000-character message in fragments exactly')

            carol.type('/msg alice hello from irssi')
            said(alice, 'carol', 'hello from irssi')
            tap.ok(not alice.find(('write', '^carol$', None, None, 'NOT encrypted')),
                   'and alice reads what irssi sends, encrypted')

            carol.type('/query alice')
            carol.type('/otr finish')
            level(alice, 'carol', FINISHED)
            tap.ok(True, 'irssi ends it: alice is told (Finished)')

            harness.settle(alice)
            lines = relayed(alice, 'carol')
            tap.ok(lines and max(len(l.encode('utf-8')) + 2 for l in lines) <= IRC_LINE_MAX,
                   "every line irssi's messages took fits 512 bytes")
        finally:
            carol.kill()
            try:
                alice.quit()
            except harness.HarnessError:
                pass
            alice.kill()


def test_plain_peer(tap):
    """A peer without OTR: a long message that offers OTR (a whitespace
    tag) must reach it as plain IRC lines, never as OTR fragments it cannot
    read."""
    with Ngircd() as server:
        # short nicks: libpurple splits a long plain message into lines that
        # fit 512 bytes with a short relay prefix, not with the longest one
        alice = irc_client('alice', server, nick='alice', plugins=[OTR])
        dave = irc_client('dave', server, nick='dave', plugins=[])
        try:
            for c in (alice, dave):
                c.login()
                c.call('irc-trace', '1')
            alice.command('dave', 'otr policy opportunistic')
            alice.send('dave', LONG)
            # the last of the 100 numbered parts: then dave has read them all
            dave.wait_for(lambda e: e.kind == 'write' and e.conv == 'alice'
                          and e.flags & harness.MSG_RECV and '0099:' in e.text, timeout=40)
            harness.settle(alice, dave)
            texts = [w.text for w in dave.writes('alice') if w.flags & harness.MSG_RECV]
            got = ''.join(texts)
            tap.ok(all('%04d:' % i + 'x' * 15 in got for i in range(100)),
                   'a peer without OTR reads the whole 2000-character message', repr(texts))
            lines = relayed(dave, 'alice')
            tap.is_([l for l in lines if '?OTR|' in l or '?OTR,' in l], [],
                    'none of it went as OTR fragments')
        finally:
            harness.close_clients(alice, dave)


def main():
    tap = Tap()
    if not Ngircd.available():
        tap.skip_all('ngircd is not installed')
    tap.run('two purple-otr clients on IRC', test_purple_pair, 90)
    tap.run('a peer without OTR on IRC', test_plain_peer, 90)
    if Irssi.available():
        tap.run('irssi with irssi-plugin-otr as the peer', test_irssi_peer, 90)
    else:
        tap.skip('irssi with irssi-plugin-otr as the peer', 'irssi, its OTR module or tmux missing')
    tap.done()


if __name__ == '__main__':
    main()
