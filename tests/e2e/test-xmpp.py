# purple-otr - GPL-2.0-or-later (see COPYING)
# End-to-end tests of the plugin's XMPP stanza hygiene, over a private
# prosody with mod_mam and mod_carbons: what the server archives, the hints
# on OTR stanzas as a plain XMPP peer receives them, carbons to another
# device, OTR data and whitespace tags kept offline by the server, and
# sessions following the peer's presence. Plain XMPP clients (a second
# device, a peer without OTR) are slixmpp clients (rawxmpp.py).

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import level, line, lines, levels, Client, Prosody, Tap  # noqa: E402
import rawxmpp  # noqa: E402
from rawxmpp import NS_CARBONS, NS_EME, NS_HINTS  # noqa: E402

OTR = 'core-purple-otr'
NOT_PRIVATE, UNVERIFIED, PRIVATE, FINISHED = '0', '1', '2', '3'
NS_OTR = 'urn:xmpp:otr:0'
# OTR's whitespace tag: its 16-byte base (the version tags follow)
WS_TAG_BASE = ' \t  \t\t\t\t \t \t \t  '


def is_otr(body):
    return body is not None and body.lstrip().startswith('?OTR')


def outgoing(client, since=0):
    """The <message/> stanzas CLIENT sent (xmpp-trace on) since a mark."""
    return [e[0] for e in client.find('xmpp-out', since=since)]


def wait_out(client, regex, since=0):
    """Wait for CLIENT's trace of an outgoing stanza matching REGEX (its
    event may come after the recipient already has the stanza)."""
    return client.wait_for(('xmpp-out', regex), since=since)[0]


def hints_in_text(xml):
    """Which of the four OTR hints an outgoing stanza (text) carries."""
    found = set()
    if re.search(r"<private xmlns='%s'/>" % re.escape(NS_CARBONS), xml):
        found.add('private')
    if re.search(r"<no-permanent-store xmlns='%s'/>" % re.escape(NS_HINTS), xml):
        found.add('no-permanent-store')
    if re.search(r"<no-copy xmlns='%s'/>" % re.escape(NS_HINTS), xml):
        found.add('no-copy')
    if re.search(r"<encryption xmlns='%s' namespace='%s'" % (re.escape(NS_EME),
                                                            re.escape(NS_OTR)), xml):
        found.add('encryption')
    return found


def hints_in_stanza(stanza):
    """Which of the four hints a stanza received by a raw client carries."""
    found = set()
    if stanza.has_child('private', NS_CARBONS):
        found.add('private')
    for name in ('no-permanent-store', 'no-copy'):
        if stanza.has_child(name, NS_HINTS):
            found.add(name)
    eme = stanza.child('encryption', NS_EME)
    if eme is not None and eme.get('namespace') == NS_OTR:
        found.add('encryption')
    return found


def new_client(server, user, resource='e2e', plugins=(OTR,), trace=True):
    client = Client(user, server.register(user, user + '-pw') + '/' + resource,
                    user + '-pw', server, plugins=plugins)
    if trace:
        client.call('xmpp-trace', '1')
    return client


def close_all(*things):
    for thing in things:
        if thing is None:
            continue
        try:
            if isinstance(thing, Client):
                thing.quit()
        except harness.HarnessError:
            pass
        finally:
            thing.kill()


def go_private(alice, bob, timeout=40):
    """alice starts OTR with bob; both reach Unverified."""
    mark_a, mark_b = alice.mark(), bob.mark()
    alice.command(bob.bare_jid, 'otr start')
    level(alice, bob.bare_jid, UNVERIFIED, timeout=timeout, since=mark_a)
    level(bob, alice.bare_jid, UNVERIFIED, timeout=timeout, since=mark_b)


def otr_enabled(value, *clients):
    for client in clients:
        client.call('pref-bool', '/OTR/enabled', '1' if value else '0')


# ---------------------------------------------------------------------------
# 1. the archive

def test_archive(tap):
    with Prosody() as server:
        alice = bob = None
        try:
            alice = new_client(server, 'alice')
            bob = new_client(server, 'bob')
            alice.login()
            bob.login()

            # a plain conversation first, OTR switched off (policy never)
            otr_enabled(False, alice, bob)
            alice.send('bob@localhost', 'plain hello from alice')
            line(bob, 'alice@localhost', 'plain hello from alice')
            bob.send('alice@localhost', 'plain answer from bob')
            line(alice, 'bob@localhost', 'plain answer from bob')
            harness.settle(alice, bob)
            harness.settle(bob, alice)
            plain = {u: server.archive_bodies(u) for u in ('alice', 'bob')}
            for user in ('alice', 'bob'):
                tap.ok('plain hello from alice' in plain[user]
                       and 'plain answer from bob' in plain[user],
                       "%s's archive holds the plain conversation (the check can fail)" % user,
                       repr(plain[user]))

            # then private
            otr_enabled(True, alice, bob)
            go_private(alice, bob)
            alice.send('bob@localhost', 'private ALPHA from alice')
            line(bob, 'alice@localhost', 'private ALPHA')
            bob.send('alice@localhost', 'private BRAVO from bob')
            line(alice, 'bob@localhost', 'private BRAVO')
            alice.send('bob@localhost', 'private CHARLIE from alice')
            line(bob, 'alice@localhost', 'private CHARLIE')
            harness.settle(alice, bob)
            harness.settle(bob, alice)

            sent_otr = [x for x in outgoing(alice) + outgoing(bob) if '?OTR' in x]
            tap.ok(len(sent_otr) >= 6,
                   'the private part went through the server as OTR stanzas (%d)'
                   % len(sent_otr))
            for user in ('alice', 'bob'):
                bodies = server.archive_bodies(user)
                tap.is_(bodies, plain[user],
                        "%s's archive holds no new message at all for the private part" % user)
                tap.ok(not any(is_otr(b) for b in bodies),
                       "%s's archive holds no OTR data" % user, repr(bodies))
                tap.ok(not any(w in b for b in bodies for w in ('ALPHA', 'BRAVO', 'CHARLIE')),
                       "%s's archive holds no private plaintext" % user)
            stored = server.stored_stanzas()
            tap.ok(not any(is_otr(m.body) for _, _, m in stored),
                   'no store of prosody (archive, offline, ...) holds OTR data',
                   repr([(s, u, m.body) for s, u, m in stored]))
            hits = {w: server.grep_data(w) for w in ('ALPHA', 'BRAVO', 'CHARLIE', '?OTR')}
            tap.ok(not any(hits.values()), "no byte of the private part in prosody's data",
                   repr(hits))
            tap.ok(server.grep_data('plain hello from alice'),
                   "(while the plain text is found there by the same grep)")
        finally:
            close_all(alice, bob)


# ---------------------------------------------------------------------------
# 2. hints, as a plain XMPP peer receives them

def test_hints(tap):
    with Prosody() as server:
        alice = raw_bob = None
        try:
            alice = new_client(server, 'alice')
            server.register('bob', 'bob-pw')
            alice.login()
            raw_bob = rawxmpp.RawClient('bob', 'bob@localhost/raw', 'bob-pw', server).connect()

            features = raw_bob.disco_features(alice.jid)
            tap.ok(rawxmpp.NS_EME in features,
                   "alice's client announces XEP-0380 (urn:xmpp:eme:0) in service discovery",
                   repr(sorted(features)))

            # alice asks bob's bare JID for a private conversation
            mark = alice.mark()
            alice.command('bob@localhost', 'otr start')
            query = raw_bob.wait_message(lambda m: is_otr(m.body))
            tap.ok(query.body.startswith('?OTRv'), 'the raw peer receives the OTR query',
                   query.xml)
            tap.is_(harness.bare_jid(query.to) == query.to, True,
                    'it was addressed to the bare JID')
            tap.is_(hints_in_stanza(query) - {'private'}, {'no-permanent-store', 'encryption'},
                    'as received: <no-permanent-store/> and <encryption/> '
                    "(namespace='urn:xmpp:otr:0'), no <no-copy/> for a bare JID")
            sent = wait_out(alice, r'\?OTRv', since=mark)
            tap.is_(hints_in_text(sent), {'private', 'no-permanent-store', 'encryption'},
                    "as sent by alice: carbons <private/> as well (prosody removes it "
                    "on delivery, XEP-0280)")

            # the peer answers from its resource: alice's answer goes to the full JID
            mark = alice.mark()
            since = raw_bob.mark()
            raw_bob.send_message('alice@localhost', '?OTRv3?')
            commit = raw_bob.wait_message(lambda m: (m.body or '').startswith('?OTR:'),
                                          since=since)
            tap.is_(commit.to, 'bob@localhost/raw',
                    "alice's key exchange answers the peer's full JID")
            tap.is_(hints_in_stanza(commit) - {'private'},
                    {'no-permanent-store', 'no-copy', 'encryption'},
                    'as received: <no-copy/> too, now that the recipient is a full JID')
            sent = wait_out(alice, r'\?OTR:', since=mark)
            tap.is_(hints_in_text(sent), {'private', 'no-permanent-store', 'no-copy', 'encryption'},
                    'as sent: all four hints')

            # a plain message (policy never) carries none of them
            otr_enabled(False, alice)
            mark = alice.mark()
            since = raw_bob.mark()
            alice.send('bob@localhost', 'plain words')
            plain = raw_bob.wait_message(lambda m: m.body == 'plain words', since=since)
            tap.is_(hints_in_stanza(plain), set(), 'a plain message as received: no hint')
            sent = wait_out(alice, 'plain words', since=mark)
            tap.is_(hints_in_text(sent), set(), 'as sent: no hint either')
        finally:
            close_all(alice, raw_bob)


# ---------------------------------------------------------------------------
# 3. carbons to alice's other device

def test_carbons(tap):
    with Prosody() as server:
        alice = bob = phone = None
        try:
            alice = new_client(server, 'alice')
            bob = new_client(server, 'bob')
            alice.login()
            bob.login()
            # priority 0, below libpurple's 1: the phone gets copies of what
            # is sent to alice's bare JID only as carbons
            phone = rawxmpp.RawClient('phone', 'alice@localhost/phone', 'alice-pw', server,
                                      priority=0).connect()
            phone.enable_carbons()

            def settle_all():
                harness.settle(alice, bob)
                harness.settle(bob, alice)
                phone.flush()

            # control: plain messages are carbon-copied, both ways
            otr_enabled(False, alice, bob)
            alice.send('bob@localhost', 'plain out')
            line(bob, 'alice@localhost', 'plain out')
            bob.send('alice@localhost', 'plain in')
            line(alice, 'bob@localhost', 'plain in')
            settle_all()
            copies = {(c[0], rawxmpp.body_of(c[1])) for c in
                      (m.carbon() for m in phone.messages) if c is not None}
            tap.ok(('sent', 'plain out') in copies,
                   'control: the phone gets a "sent" carbon of a plain message', repr(copies))
            tap.ok(('received', 'plain in') in copies,
                   'control: and a "received" carbon of a plain message', repr(copies))

            # private, both ways
            otr_enabled(True, alice, bob)
            since = phone.mark()
            go_private(alice, bob)
            alice.send('bob@localhost', 'secret out')
            line(bob, 'alice@localhost', 'secret out')
            bob.send('alice@localhost', 'secret in')
            line(alice, 'bob@localhost', 'secret in')
            mark_a, mark_b = alice.mark(), bob.mark()
            bob.command('alice@localhost', 'otr refresh')   # a key exchange from bob's side
            line(bob, 'alice@localhost', 'refreshed', since=mark_b)
            level(alice, 'bob@localhost', UNVERIFIED, since=mark_a)
            settle_all()
            later = phone.messages[since:]
            otr_carbons = [m for m in later if m.carbon() is not None
                           and is_otr(rawxmpp.body_of(m.carbon()[1]))]
            tap.is_(len(otr_carbons), 0, 'the phone got no carbon of any OTR message')
            tap.ok(not any(is_otr(m.body) for m in later),
                   'nor any OTR data directly', repr([m.xml for m in later]))
            tap.ok(not any('secret' in m.xml for m in later), 'nor the plaintext')
            sent_otr = [x for x in outgoing(alice) + outgoing(bob) if '?OTR' in x]
            tap.ok(len(sent_otr) >= 6, 'while OTR stanzas did go both ways (%d)' % len(sent_otr))
        finally:
            close_all(alice, bob, phone)


# ---------------------------------------------------------------------------
# 4. OTR data and whitespace tags kept offline by the server

def test_offline_otr_data(tap):
    with Prosody() as server:
        alice = bob = None
        try:
            alice = new_client(server, 'alice')
            bob = new_client(server, 'bob')
            alice.login()
            bob.login()
            go_private(alice, bob)
            bob.send('alice@localhost', 'last words')
            line(alice, 'bob@localhost', 'last words')

            bob.crash()
            server.wait_offline('bob@localhost')
            mark_a = alice.mark()
            alice.send('bob@localhost', 'lost DELTA')
            alice.send('bob@localhost', 'lost ECHO')
            alice.flush()
            offline = [m for m in server.archive('bob', 'offline') if is_otr(m.body)]
            tap.is_(len(offline), 2, 'prosody keeps both encrypted messages for bob')
            tap.ok(not server.grep_data('DELTA') and not server.grep_data('ECHO'),
                   'encrypted: their text is nowhere in its data')

            bob.start()
            bob.call('xmpp-trace', '1')
            mark_b = bob.mark()
            bob.login()
            bob.flush()                     # the stored messages have been delivered
            harness.settle(bob, alice)      # and whatever bob sent is with alice
            told = lines(bob, 'alice@localhost', 'while you were offline', since=mark_b)
            tap.is_(len(told), 1, 'bob gets exactly one line about them')
            tap.ok(told and 'cannot be read' in told[0].text, 'a clear one',
                   told[0].text if told else None)
            tap.ok(not lines(bob, 'alice@localhost', 'DELTA|ECHO|\\?OTR', since=mark_b),
                   'no garbage or OTR data shown')
            tap.is_(outgoing(bob, mark_b), [], 'bob sends no stanza in response')
            tap.is_(lines(alice, 'bob@localhost', '(?i)OTR error|could not|cannot read|'
                          'unreadable|malformed', since=mark_a), [],
                    'no OTR error reaches alice')
            tap.ok(set(levels(alice, 'bob@localhost', mark_a)) <= {UNVERIFIED},
                   "alice's conversation stays where it was (Unverified)",
                   repr(levels(alice, 'bob@localhost', mark_a)))
            tap.ok(not lines(alice, 'bob@localhost', 'Unverified conversation|Private conversation',
                             since=mark_a)
                   and UNVERIFIED not in levels(bob, 'alice@localhost', mark_b),
                   'no key exchange is started by them')
        finally:
            close_all(alice, bob)


def test_offline_whitespace_tag(tap):
    with Prosody() as server:
        alice = bob = None
        try:
            alice = new_client(server, 'alice')     # policy opportunistic (default)
            bob = new_client(server, 'bob')
            alice.login()
            mark_a = alice.mark()
            alice.send('bob@localhost', 'tagged while you were away')
            alice.flush()
            stored = [m.body for m in server.archive('bob', 'offline')]
            tap.ok(len(stored) == 1 and WS_TAG_BASE in stored[0],
                   'prosody keeps the plain message, whitespace tag included, for bob',
                   repr(stored))

            mark_b = bob.mark()
            bob.login()
            bob.flush()
            harness.settle(bob, alice)
            got = [w.text for w in bob.writes('alice@localhost', since=mark_b)
                   if w.flags & harness.MSG_RECV]
            tap.is_(got, ['tagged while you were away'],
                    'bob reads the stored message, without the tag')
            tap.ok(not bob.find('keygen', since=mark_b)
                   and UNVERIFIED not in levels(bob, 'alice@localhost', mark_b)
                   and not lines(bob, 'alice@localhost', 'Unverified conversation', since=mark_b),
                   'the stored tag starts no key exchange at bob')
            tap.is_([x for x in outgoing(bob, mark_b) if '?OTR' in x], [],
                    'bob sends no OTR query or key exchange message')
            tap.ok(set(levels(alice, 'bob@localhost', mark_a)) <= {NOT_PRIVATE},
                   "alice's conversation stays Not private",
                   repr(levels(alice, 'bob@localhost', mark_a)))

            # control: the same tag, live, does start one
            alice.send('bob@localhost', 'tagged live')
            level(bob, 'alice@localhost', UNVERIFIED, timeout=40, since=mark_b)
            tap.ok(True, 'control: a live whitespace tag starts the key exchange')
        finally:
            close_all(alice, bob)


def test_offline_disguised(tap):
    """Stored messages in which libotr would find a query or a whitespace
    tag elsewhere than where a naive look finds it: none is answered."""
    tag = WS_TAG_BASE + '  \t\t  \t ' + '  \t\t  \t\t'   # base, v2, v3
    # a query the server kept for a few moments is answered on purpose
    # (session.c): these were stored long ago
    old = "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>"
    xhtml = "<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='%s'>%%s</body></html>" \
        % 'http://www.w3.org/1999/xhtml'
    cases = [
        ('text before the query', '<body>hello ?OTRv23?</body>' + old, None),
        ('two whitespace tags', '<body>one%s two%s</body>' % (tag, tag), 'one two'),
        ('a query in the second body, a decoy body first',
         "<body xmlns='urn:example:decoy'>decoy</body><body>?OTRv23?</body>" + old, None),
        ('a tag in the second body, a decoy body first',
         "<body xmlns='urn:example:decoy'>decoy</body><body>tagged%s</body>" % tag, 'tagged'),
        ('a query in the formatted part', '<body>plain</body>' + xhtml % 'x ?OTRv23?' + old,
         'plain'),
    ]
    with Prosody() as server:
        bob = raw = None
        try:
            bob = new_client(server, 'bob')     # OTR, policy opportunistic; offline
            server.register('alice', 'alice-pw')
            raw = rawxmpp.RawClient('alice', 'alice@localhost/raw', 'alice-pw', server).connect()
            for _, inner, _ in cases:
                raw.send_raw("<message to='bob@localhost' type='chat'>%s</message>" % inner)
            raw.flush()
            stored = server.archive('bob', 'offline')
            tap.ok(len(stored) == len(cases), 'prosody keeps the %d crafted messages for bob'
                   % len(cases), repr([m.xml for m in stored]))

            mark_b = bob.mark()
            since = raw.mark()
            bob.login()
            bob.flush()                 # the stored messages have been delivered
            raw.flush()                 # and whatever bob sent is with alice
            got = [w.text for w in bob.writes('alice@localhost', since=mark_b)
                   if w.flags & harness.MSG_RECV]
            for name, _, shown in cases:
                if shown is not None:
                    tap.ok(shown in got, '%s: bob reads "%s"' % (name, shown), repr(got))
            tap.ok(not any('?OTR' in t or WS_TAG_BASE in t for t in got),
                   'no query or tag is shown', repr(got))
            tap.is_([x for x in outgoing(bob, mark_b) if '?OTR' in x], [],
                    'bob sends no key exchange message and no query for any of them')
            tap.is_([m.body for m in raw.messages[since:] if is_otr(m.body)], [],
                    'alice receives no OTR message')
            tap.ok(not bob.find('keygen', since=mark_b)
                   and UNVERIFIED not in levels(bob, 'alice@localhost', mark_b),
                   'no key generation, no key exchange at bob')

            # control: the first of them, live, is answered
            since = raw.mark()
            raw.send_raw("<message to='bob@localhost/e2e' type='chat'>"
                         "<body>hello ?OTRv23?</body></message>")
            answer = raw.wait_message(lambda m: (m.body or '').startswith('?OTR:'), since=since)
            tap.ok(answer, 'control: the same message live gets a key exchange answer')
        finally:
            close_all(bob, raw)


# ---------------------------------------------------------------------------
# 5. sessions follow presence

def back(tap, alice, bob, how, restart):
    """bob returns: the session starts again by itself, and works."""
    mark = alice.mark()
    commands = len(alice.find('cmd-result')) + len(bob.find('cmd-result'))
    if restart:
        bob.start()             # same userdir: same key, no session
    mark_b = bob.mark()
    bob.login()
    level(alice, 'bob@localhost', UNVERIFIED, since=mark)
    level(bob, 'alice@localhost', UNVERIFIED, since=mark_b)
    tap.ok(len(alice.find('cmd-result')) + len(bob.find('cmd-result')) == commands,
           'bob back after a %s: the session starts again by itself (no command)' % how)
    alice.send('bob@localhost', 'welcome back after a %s' % how)
    got = line(bob, 'alice@localhost', 'welcome back after a %s' % how, since=mark_b)
    tap.ok(got.flags & harness.MSG_RECV, 'and works')


def test_presence(tap):
    with Prosody() as server:
        alice = bob = None
        try:
            alice = new_client(server, 'alice')
            bob = new_client(server, 'bob')
            alice.login()
            bob.login()
            harness.subscribe(alice, bob)
            go_private(alice, bob)

            # bob crashes: nothing from him, only his presence says he is gone
            mark = alice.mark()
            bob.crash()
            level(alice, 'bob@localhost', FINISHED, since=mark)
            tap.ok(lines(alice, 'bob@localhost', 'went offline.*on hold', since=mark)
                   and NOT_PRIVATE not in levels(alice, 'bob@localhost', since=mark),
                   'bob crashes: alice is told he went offline, the conversation is on '
                   'hold (Finished, never Not private: presence is the server\'s word)')
            tap.ok(alice.wait_for(('buddy-signed-off', '^bob@localhost$'), since=mark),
                   '(his presence said so)')
            back(tap, alice, bob, 'crash', restart=True)

            # bob logs out: his plugin ends the session first (Finished at
            # alice's), and his presence puts it on hold: never Not private
            mark = alice.mark()
            bob.logout()
            alice.wait_for(('buddy-signed-off', '^bob@localhost$'), since=mark)
            level(alice, 'bob@localhost', FINISHED, since=mark)
            tap.ok(NOT_PRIVATE not in levels(alice, 'bob@localhost', since=mark),
                   'bob logs out: alice leaves the private conversation (Finished)')
            tap.ok(lines(alice, 'bob@localhost', 'went offline|has ended the private', since=mark),
                   'and is told why')
            back(tap, alice, bob, 'logout', restart=False)
        finally:
            close_all(alice, bob)


def main():
    tap = Tap()
    if not Prosody.available():
        tap.skip_all('prosody not installed')
    if not rawxmpp.available():
        tap.skip_all('python3-slixmpp not installed')
    tap.run('archive', test_archive, timeout=60)
    tap.run('hints on OTR stanzas', test_hints, timeout=60)
    tap.run('carbons', test_carbons, timeout=60)
    tap.run('offline OTR data', test_offline_otr_data, timeout=60)
    tap.run('offline whitespace tag', test_offline_whitespace_tag, timeout=60)
    tap.run('offline OTR where libotr finds it', test_offline_disguised, timeout=60)
    tap.run('presence', test_presence, timeout=60)
    tap.done()


if __name__ == '__main__':
    main()
