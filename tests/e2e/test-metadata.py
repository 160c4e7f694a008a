# purple-otr - GPL-2.0-or-later (see COPYING)
# End-to-end tests of metadata hiding, asserted on what the server relayed
# (prosody's mod_potr_wiretap): encrypted messages padded so that their
# length shows only a coarse bucket (and read back exactly by a second
# purple-otr), and no typing notification or chat state while a
# conversation is private, unless the user asks for them. Plain
# conversations are untouched.

import os
import random
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import level, Client, Prosody, Tap  # noqa: E402
from demo import body_of, read_wiretap, wiretap_config  # noqa: E402

OTR = 'core-purple-otr'
UNVERIFIED = '1'
A, B = 'alice@localhost', 'bob@localhost'
NS_CHATSTATES = 'http://jabber.org/protocol/chatstates'
TYPING, PAUSED, NOT_TYPING = '1', '2', '0'
# lengths spread over 1..2000 characters (seeded: the same on every run)
LENGTHS = sorted(random.Random(2000).sample(range(1, 2001), 60)) + [1, 250, 251, 2000]


def to_peer(xml, peer):
    """True if the relayed stanza XML is addressed to PEER (bare JID)."""
    m = re.search(r"""\sto=['"]([^'"]+)['"]""", xml)
    return m is not None and harness.bare_jid(m.group(1)) == peer


def chat_states(stanzas, peer):
    """The relayed stanzas to PEER that carry a chat state element."""
    return [x for x in stanzas if to_peer(x, peer) and NS_CHATSTATES in x]


def data_bodies(stanzas, peer):
    """Bodies of the relayed OTR data messages to PEER."""
    out = []
    for x in stanzas:
        body = body_of(x) if to_peer(x, peer) else None
        if body is not None and body.startswith('?OTR:AAMD'):
            out.append(body)
    return out


def text_of(n, i):
    """A message of N characters (ASCII, with an index to tell them apart)."""
    head = 'm%d:' % i
    return (head + 'abcdefghij' * 201)[:n] if n > len(head) else 'x' * n


class Setup(object):
    """prosody with the wiretap, alice and bob (roster buddies, so typing
    notifications go out at all), both with purple-otr."""

    def __init__(self, server, tap_file):
        self.tap_file = tap_file
        server.register('alice', 'alice-pw')
        server.register('bob', 'bob-pw')
        server.befriend('alice', 'bob')
        self.alice = Client('alice', A + '/e2e', 'alice-pw', server, plugins=[OTR])
        self.bob = Client('bob', B + '/e2e', 'bob-pw', server, plugins=[OTR])
        for c in (self.alice, self.bob):
            c.login()
        for c, peer in ((self.alice, B), (self.bob, A)):
            c.wait_for(('buddy-signed-on', '^%s$' % re.escape(peer)))

    def relayed(self):
        """Every message stanza the server received so far."""
        harness.settle(self.alice, self.bob)
        harness.settle(self.bob, self.alice)
        return read_wiretap(self.tap_file)

    def go_private(self):
        self.alice.command(B, 'otr start')
        level(self.alice, B, UNVERIFIED, timeout=40)
        level(self.bob, A, UNVERIFIED, timeout=40)

    def typing(self, client, peer, *states):
        for state in states:
            client.call('typing', peer, state)

    def close(self):
        harness.close_clients(self.alice, self.bob)


def send_all(s, tag):
    """alice sends every length of LENGTHS; bob must read each exactly.
    Returns the relayed data bodies of this round."""
    before = len(s.relayed())
    mark = s.bob.mark()
    for i, n in enumerate(LENGTHS):
        s.alice.send(B, text_of(n, i))
    got = []
    for i, n in enumerate(LENGTHS):
        got.append(s.bob.wait_for(('write', '^' + re.escape(A), '^2$'), since=mark).text)
    expected = [text_of(n, i) for i, n in enumerate(LENGTHS)]
    return data_bodies(s.relayed()[before:], B), got == expected, got, expected


def test_metadata(tap, tmp):
    tap_file = os.path.join(tmp, 'wiretap')
    with Prosody(extra_config=wiretap_config(tap_file)) as server:
        s = Setup(server, tap_file)
        try:
            # a plain conversation: typing notifications go out as always
            s.alice.send(B, 'hello in clear')
            s.bob.wait_for(('write', '^' + re.escape(A), None, None, 'hello in clear'))
            before = len(s.relayed())
            s.typing(s.alice, B, TYPING, PAUSED, NOT_TYPING)
            plain = chat_states(s.relayed()[before:], B)
            tap.ok(len(plain) >= 2, 'plain conversation: the typing notifications reach the server',
                   '%d chat state stanzas' % len(plain))

            s.go_private()

            # 2. chat states: none while private
            before = len(s.relayed())
            for _ in range(5):
                s.typing(s.alice, B, TYPING, PAUSED, TYPING, NOT_TYPING)
                s.typing(s.bob, A, TYPING, NOT_TYPING)
            s.alice.send(B, 'private words')
            s.bob.wait_for(('write', '^' + re.escape(A), None, None, 'private words'))
            s.bob.send(A, 'private answer')
            s.alice.wait_for(('write', '^' + re.escape(B), None, None, 'private answer'))
            private = chat_states(s.relayed()[before:], B) + chat_states(s.relayed()[before:], A)
            tap.diag('chat state notifications relayed while private (30 typed): %d' % len(private))
            tap.is_(len(private), 0, 'private: no typing notification or chat state reaches the server')

            # 1. padding: few distinct lengths, read back exactly
            padded, exact, got, expected = send_all(s, 'padded')
            lengths = sorted(set(len(b) for b in padded))
            tap.is_(len(padded), len(LENGTHS), 'every padded message went out as one data message')
            tap.ok(exact, 'bob (a second purple-otr) reads every padded message exactly',
                   'first difference: %r' % next(((g[:40], e[:40]) for g, e in zip(got, expected)
                                                  if g != e), None))
            tap.diag('%d messages of 1..2000 characters, padded: %d distinct lengths %s'
                     % (len(LENGTHS), len(lengths), lengths))
            tap.ok(len(lengths) <= 8, 'padded: at most 8 distinct ciphertext lengths',
                   'lengths: %r' % lengths)

            s.alice.call('pref-bool', '/OTR/padmessages', '0')
            unpadded, exact, _, _ = send_all(s, 'unpadded')
            raw = sorted(set(len(b) for b in unpadded))
            tap.diag('the same messages unpadded: %d distinct lengths' % len(raw))
            tap.ok(len(raw) > 8 and exact,
                   'padding off (the preference): lengths follow the text again',
                   'distinct lengths: %d' % len(raw))
            overhead = sum(len(b) for b in padded) / float(sum(len(b) for b in unpadded)) - 1
            tap.diag('padding costs %.1f%% more bytes on the wire for these messages'
                     % (100 * overhead))

            # the user asks for chat states: they go out again
            for c in (s.alice, s.bob):
                c.call('pref-bool', '/OTR/sendchatstates', '1')
            # bob's next message tells alice's libpurple that he reads them
            s.bob.send(A, 'states on')
            s.alice.wait_for(('write', '^' + re.escape(B), None, None, 'states on'))
            before = len(s.relayed())
            s.typing(s.alice, B, TYPING, NOT_TYPING)
            asked = chat_states(s.relayed()[before:], B)
            tap.ok(len(asked) >= 1, 'with "send typing notifications" on, they reach the server',
                   '%d chat state stanzas' % len(asked))
        finally:
            s.close()


def main():
    tap = Tap()
    if not Prosody.available():
        tap.skip_all('prosody is not installed')
    tmp = tempfile.mkdtemp(prefix='potr-e2e-metadata-')
    tap.run('metadata on the wire', test_metadata, 100, tmp)
    harness._rmtree(tmp)
    tap.done()


if __name__ == '__main__':
    main()
