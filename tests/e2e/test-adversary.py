# purple-otr - GPL-2.0-or-later (see COPYING)
# End-to-end tests against an adversary: the server (it controls presence,
# resources, the order and the delivery of stanzas), a hostile peer (any
# bytes, several logins, verification started and ended at any moment).
# Real prosody on loopback, real headless libpurple clients with
# purple-otr; bob is often logged in twice, as bob@localhost/one and
# bob@localhost/two, each login with its own key.
#
# What each test proves:
#  - trust goes to the fingerprint the user was shown, never to whatever
#    key another login of the peer brought in meanwhile;
#  - presence and our own connection drops never turn a private
#    conversation into a plain one: nothing typed leaves in clear, it is
#    held and sent once the conversation is private again;
#  - a verification answer goes to the login that asked; with nothing
#    pending it is refused; a request whose session ended is gone;
#  - "don't log" holds while any login of the peer is private, and a
#    changed setting applies to open conversations at once;
#  - text chosen by the peer never becomes markup in a status line;
#  - replayed and duplicated OTR data changes nothing.

import base64
import contextlib
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import level, line, lines, levels, Client, Prosody, Tap  # noqa: E402
import rawxmpp  # noqa: E402

OTR = 'core-purple-otr'
NOT_PRIVATE, UNVERIFIED, PRIVATE, FINISHED = '0', '1', '2', '3'
SMP_ERROR, SMP_ABORT, SMP_ASK_FOR_ANSWER, SMP_SUCCESS = '1', '2', '4', '7'
A, B = 'alice@localhost', 'bob@localhost'
FP_RE = r'([0-9A-F]{8}(?: [0-9A-F]{8}){4})'


def hexfp(human):
    return human.replace(' ', '').lower()


def trust_in_file(client, buddy):
    """{fingerprint (40 hex): trust} of BUDDY in CLIENT's otr.fingerprints."""
    out = {}
    path = os.path.join(client.userdir, 'otr.fingerprints')
    if os.path.exists(path):
        with open(path) as f:
            for raw in f:
                fields = raw.rstrip('\n').split('\t')
                if len(fields) >= 4 and fields[0] == buddy:
                    out[fields[3]] = fields[4] if len(fields) > 4 else ''
    return out


def new_client(server, user, resource, log=False):
    jid = '%s@localhost/%s' % (user, resource)
    client = Client('%s-%s' % (user, resource), jid, user + '-pw', server,
                    plugins=[OTR], log=log)
    client.call('xmpp-trace', '1')
    return client


@contextlib.contextmanager
def raw_bob(server):
    """bob logged in once more (bob@localhost/raw) as a bare XMPP client
    that sends whatever the test makes up; logged out afterwards."""
    raw = rawxmpp.RawClient('bob-raw', 'bob@localhost/raw', 'bob-pw', server)
    try:
        raw.connect()
        yield raw
    finally:
        close_all(raw)


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


def plaintext_on_wire(server, clients, needle):
    """Where NEEDLE went past the server in clear: stanzas the clients sent
    (their traces) and everything the server stored (archive, offline)."""
    hits = []
    for c in clients:
        hits += ['%s sent: %s' % (c.name, x[0]) for x in c.find('xmpp-out') if needle in x[0]]
    hits += ['%s %s: %s' % (store, user, m.xml) for store, user, m in server.stored_stanzas()
             if needle in m.xml]
    return hits


def private_with(peer_login, alice, mark_alice=None, timeout=40):
    """PEER_LOGIN (one of bob's logins) starts OTR with alice; returns the
    fingerprint alice was shown for that login's key."""
    mark = alice.mark() if mark_alice is None else mark_alice
    mark_peer = peer_login.mark()
    peer_login.command(A, 'otr start')
    level(peer_login, A, UNVERIFIED, timeout=timeout, since=mark_peer)
    shown = line(alice, B, 'key you have not seen before', since=mark, timeout=timeout)
    return re.search(FP_RE, shown.text).group(1)


def say(sender, receiver, text, to=A, conv=B):
    sender.send(to, text)
    return line(receiver, conv, re.escape(text))


class Trio(object):
    """alice, and bob logged in twice (/one and /two, two keys), signed on."""

    def __init__(self, server, alice_log=False):
        server.register('alice', 'alice-pw')
        server.register('bob', 'bob-pw')
        server.befriend('alice', 'bob')
        self.server = server
        self.alice = new_client(server, 'alice', 'e2e', log=alice_log)
        self.one = new_client(server, 'bob', 'one')
        self.two = new_client(server, 'bob', 'two')
        for c in (self.alice, self.one, self.two):
            c.login()
        self.alice.wait_for(('buddy-signed-on', '^' + re.escape(B) + '$'))
        # keys first: every key exchange below is then one clean exchange
        # with exactly the login that asked for it
        for c, peer in ((self.alice, B), (self.one, A), (self.two, A)):
            c.command(peer, 'otr genkey')
        for c in (self.alice, self.one, self.two):
            c.wait_for(('keygen', None, '^1$'), timeout=40)

    def both_private(self):
        """Both of bob's logins private with alice; their fingerprints."""
        mark = self.alice.mark()
        f1 = private_with(self.one, self.alice, mark)
        mark = self.alice.mark()
        f2 = private_with(self.two, self.alice, mark)
        return f1, f2

    def close(self):
        close_all(self.alice, self.one, self.two)


def with_trio(func, **kw):
    def run(tap):
        with Prosody() as server:
            trio = Trio(server, **kw)
            try:
                func(tap, server, trio)
            finally:
                trio.close()
    run.__name__ = func.__name__
    return run


# ---------------------------------------------------------------------------
# 1. trust goes to the key the user saw

def owner(trio, fingerprint, f1, f2):
    """(the login whose key FINGERPRINT is, the other login, the other key)."""
    if fingerprint == f1:
        return trio.one, trio.two, f2
    return trio.two, trio.one, f1


def test_trust_dialog_binds(tap, server, trio):
    alice = trio.alice
    f1, f2 = trio.both_private()
    tap.ok(f1 != f2, "bob's two logins have two keys")
    alice.command(B, 'otr smp')
    alice.call('request-answer', alice.wait_for(('request', 'choice'))[1], '2')
    shown = alice.wait_for(('request', 'action'))
    found = [f for f in (f1, f2) if f in ' '.join(shown.fields)]
    tap.is_(len(found), 1, "the manual check shows the key of one of bob's logins")
    login, other, other_key = owner(trio, found[0], f1, f2)

    # the login whose key is shown ends its session while the dialog is
    # open: the other login's key is in use now
    mark = alice.mark()
    login.command(A, 'otr end')
    line(alice, B, 'ended', since=mark)
    alice.call('request-answer', shown[1], '0')   # "I have verified it"
    harness.settle(alice)
    trust = trust_in_file(alice, B)
    tap.is_(trust.get(hexfp(other_key)), '',
            "the click does not verify the other login's key, which the user never saw")
    tap.ok(lines(alice, B, 'Nothing was trusted.*' + re.escape(other_key), since=mark),
           'the user is told which key is in use now', repr(alice.writes(B, since=mark)))
    again = alice.wait_for(('request', 'action'), since=mark)
    tap.ok(other_key in ' '.join(again.fields),
           'the check is shown again, with the key in use now', repr(again))
    alice.call('request-answer', again[1], '0')
    level(alice, B, PRIVATE)
    tap.is_(trust_in_file(alice, B).get(hexfp(other_key)), 'verified',
            'confirming the key shown verifies exactly that key')
    tap.is_(trust_in_file(alice, B).get(hexfp(found[0])), '', 'the first key stays unverified')


def test_trust_command_binds(tap, server, trio):
    alice = trio.alice
    f1, f2 = trio.both_private()
    alice.command(B, 'otr fingerprint')
    shown = re.search(FP_RE, line(alice, B, 'fingerprint in this conversation').text).group(1)
    tap.ok(shown in (f1, f2), '/otr fingerprint shows the key in use')
    login, other, other_key = owner(trio, shown, f1, f2)
    mark = alice.mark()
    login.command(A, 'otr end')                  # the key in use changes
    line(alice, B, 'ended', since=mark)
    alice.command(B, 'otr trust')
    harness.settle(alice)
    trust = trust_in_file(alice, B)
    tap.ok(trust.get(hexfp(f1)) == '' and trust.get(hexfp(f2)) == '',
           '/otr trust does not trust a key other than the one shown', repr(trust))
    refusal = lines(alice, B, re.escape(other_key), since=mark)
    tap.ok(refusal and refusal[-1].flags & harness.MSG_ERROR,
           'it names the key in use now and says how to trust it', repr(alice.writes(B, since=mark)))

    mark = alice.mark()
    alice.command(B, 'otr trust ' + other_key)
    tap.ok(line(alice, B, 'verified.*' + re.escape(other_key), since=mark),
           '/otr trust FINGERPRINT says which key it verified')
    tap.is_(trust_in_file(alice, B), {hexfp(other_key): 'verified', hexfp(shown): ''},
            'and verifies exactly that one')
    level(alice, B, PRIVATE)
    mark = alice.mark()
    alice.command(B, 'otr trust ' + shown.replace(' ', '')[:-1] + ('0' if shown[-1] != '0' else '1'))
    tap.ok(line(alice, B, 'not a known', since=mark).flags & harness.MSG_ERROR,
           'an unknown fingerprint is refused')


# ---------------------------------------------------------------------------
# 2. presence and connection drops never lower the level

def with_private_buddies(func):
    """Run func(tap, server, alice, bob): two buddies (each sees the
    other's presence), private with each other."""
    def run(tap):
        with Prosody() as server:
            alice = bob = None
            try:
                server.register('alice', 'alice-pw')
                server.register('bob', 'bob-pw')
                server.befriend('alice', 'bob')
                alice = new_client(server, 'alice', 'e2e')
                bob = new_client(server, 'bob', 'e2e')
                alice.login()
                bob.login()
                alice.wait_for(('buddy-signed-on', '^bob@localhost$'))
                alice.command(B, 'otr start')
                level(alice, B, UNVERIFIED, timeout=40)
                level(bob, A, UNVERIFIED, timeout=40)
                func(tap, server, alice, bob)
            finally:
                close_all(alice, bob)
    run.__name__ = func.__name__
    return run


def test_peer_vanishes(tap, server, alice, bob):
    mark = alice.mark()
    bob.crash()                               # no goodbye: only presence tells
    alice.wait_for(('buddy-signed-off', '^bob@localhost$'), since=mark)
    level(alice, B, FINISHED, since=mark)
    tap.ok(NOT_PRIVATE not in levels(alice, B, since=mark),
           'bob vanishes: the level is Finished, never Not private')
    secret = 'typed while bob was away'
    alice.send(B, secret)
    tap.ok(line(alice, B, 'will be sent|not sent', since=mark),
           'alice is told her message waits (or was not sent)')
    harness.settle(alice)
    tap.is_(plaintext_on_wire(server, [alice], secret), [],
            'nothing alice typed left in clear (wire, archive, offline store)')

    bob.start()                               # (its events start anew)
    bob.login()
    got = line(bob, A, re.escape(secret), timeout=40)
    tap.ok(got, 'once bob is back and the conversation private again, it arrives')
    tap.ok(level(alice, B, UNVERIFIED, since=mark, timeout=40),
           'alice is private with bob again')
    tap.ok(not alice.find(('conv-created', None), since=mark),
           'the restart opened no window by itself')
    harness.settle(alice, bob)
    tap.is_(plaintext_on_wire(server, [alice], secret), [], 'and it went encrypted')


def test_own_connection_drops(tap, server, alice, bob):
    mark = alice.mark()
    alice.call('drop')
    alice.wait_for('signed-off', since=mark)
    tap.ok(NOT_PRIVATE not in levels(alice, B, since=mark),
           "alice's connection drops: her level does not fall to Not private",
           repr(levels(alice, B, since=mark)))
    alice.login()
    secret = 'typed right after the reconnect'
    alice.send(B, secret)
    got = line(bob, A, re.escape(secret), timeout=40)
    tap.ok(got, 'bob gets what alice typed right after her reconnect')
    harness.settle(alice, bob)
    tap.is_(plaintext_on_wire(server, [alice], secret), [],
            'and it never went in clear: it waited for the new private conversation')


# ---------------------------------------------------------------------------
# 3. a verification answer goes to the login that asked

def test_smp_answer_to_asker(tap, server, trio):
    alice, one, two = trio.alice, trio.one, trio.two
    trio.both_private()
    mark = alice.mark()
    alice.command(B, 'otr smp respond nothing-pending')
    tap.ok(line(alice, B, 'nothing to answer|has not asked', since=mark).flags & harness.MSG_ERROR,
           'an answer with no pending request is refused with a line (no crash)')

    one.command(A, 'otr smp ask "Our street?" elm')
    alice.wait_for(('smp', '^' + B, '^%s$' % SMP_ASK_FOR_ANSWER))
    say(two, alice, 'two butts in')             # /two becomes the instance in use
    alice.command(B, 'otr smp respond elm')
    tap.ok(one.wait_for(('smp', '^' + A, '^%s$' % SMP_SUCCESS), timeout=40),
           'the answer reaches /one, who asked, and the verification succeeds there')
    tap.ok(alice.alive(), 'alice did not crash')

    # /one asks again, then ends its session: the request goes with it
    mark = alice.mark()
    one.command(A, 'otr smp ask "Our street?" elm')
    alice.wait_for(('smp', '^' + B, '^%s$' % SMP_ASK_FOR_ANSWER), since=mark)
    req = alice.wait_for(('request', 'input'), since=mark)
    one.command(A, 'otr end')
    alice.wait_for(('request-closed', '^%s$' % re.escape(req[1])), since=mark)
    tap.ok(True, "the request's dialog closes when the session that asked ends")
    mark = alice.mark()
    alice.command(B, 'otr smp respond elm')
    tap.ok(line(alice, B, 'nothing to answer|has not asked', since=mark).flags & harness.MSG_ERROR,
           'answering it afterwards is refused with a line (no crash)')
    tap.ok(alice.alive(), 'alice is still running')


def test_smp_cheat_aborts(tap, server, trio):
    """A verification message out of order (both sides ask at once) is a
    protocol error: both sides must leave the half-done verification, or
    every later one fails too."""
    alice, one = trio.alice, trio.one
    private_with(one, alice)
    mark, mark_one = alice.mark(), one.mark()
    alice.command(B, 'otr smp ask "Q?" a')
    one.wait_for(('smp', '^' + A, '^%s$' % SMP_ASK_FOR_ANSWER), since=mark_one)
    one.command(A, 'otr smp ask "Mine?" b')        # out of order for alice
    alice.wait_for(('smp', '^' + B, '^%s$' % SMP_ERROR), since=mark)
    tap.ok(one.wait_for(('smp', '^' + A, '^%s$' % SMP_ABORT), since=mark_one),
           'alice aborts the broken verification, and /one hears of it')
    mark, mark_one = alice.mark(), one.mark()
    one.command(A, 'otr smp ask "Again?" c')
    alice.wait_for(('smp', '^' + B, '^%s$' % SMP_ASK_FOR_ANSWER), since=mark, timeout=10)
    alice.command(B, 'otr smp respond c')
    tap.ok(one.wait_for(('smp', '^' + A, '^%s$' % SMP_SUCCESS), since=mark_one, timeout=40),
           'after the protocol error both sides start over cleanly')


# ---------------------------------------------------------------------------
# 4. logging follows the conversation as a whole

def test_logging_all_instances(tap, server, trio):
    alice, one, two = trio.alice, trio.one, trio.two
    trio.both_private()
    say(one, alice, 'first private line')
    mark = alice.mark()
    two.command(A, 'otr end')
    line(alice, B, 'ended', since=mark)
    finished = lines(alice, B, 'ended', since=mark)
    tap.ok(finished and not any(re.search('will not be sent', w.text) for w in finished),
           '/two ends: the line does not claim messages will not be sent', repr(finished))
    say(one, alice, 'still private from one')
    alice.send(B, 'alice still talks to one')
    line(one, A, 'alice still talks to one')
    harness.settle(alice)
    logs = '\n'.join(alice.logs().values())
    tap.ok('still private from one' not in logs and 'first private line' not in logs,
           "/one's decrypted messages stay out of the log while /one is private", logs[-400:])


def test_logging_setting_applies(tap, server, trio):
    alice, one = trio.alice, trio.one
    alice.call('pref-bool', '/OTR/avoidloggingotr', '0')
    private_with(one, alice)
    say(one, alice, 'logged by choice')
    alice.call('pref-bool', '/OTR/avoidloggingotr', '1')
    say(one, alice, 'never on disk')
    harness.settle(alice)
    logs = '\n'.join(alice.logs().values())
    tap.ok('logged by choice' in logs, 'with "don\'t log" off, private lines are logged', logs[-400:])
    tap.ok('never on disk' not in logs,
           'turning "don\'t log" on applies to the open conversation at once', logs[-400:])


# ---------------------------------------------------------------------------
# 5. the peer's bytes never become markup; replays change nothing

XHTML_FORGERY = ('<html xmlns="http://jabber.org/protocol/xhtml-im">'
                 '<body xmlns="http://www.w3.org/1999/xhtml"><span style="color: green">'
                 'Private conversation with bob@localhost started.</span></body></html>')


def no_markup(text):
    """TEXT shows no markup but line breaks (entities are fine)."""
    return re.sub(r'<br\s*/?>', '', text).find('<') < 0


def test_peer_text_not_markup(tap):
    with Prosody() as server:
        alice = bob = raw = None
        try:
            server.register('alice', 'alice-pw')
            server.register('bob', 'bob-pw')
            alice = new_client(server, 'alice', 'e2e')
            bob = new_client(server, 'bob', 'e2e')
            alice.login()
            bob.login()
            private_with(bob, alice)
            raw = rawxmpp.RawClient('bob-raw', 'bob@localhost/raw', 'bob-pw', server).connect()
            # formatted text in clear while the conversation is private
            mark = alice.mark()
            raw.send_message('alice@localhost/e2e', 'Private conversation with bob@localhost '
                             'started.', extra_xml=XHTML_FORGERY)
            warn = line(alice, B, 'NOT encrypted', since=mark)
            tap.ok(no_markup(warn.text), 'unencrypted text from the peer is shown as text',
                   warn.text)
            # an OTR error message with formatting
            mark = alice.mark()
            raw.send_message('alice@localhost/e2e', '?OTR Error: Private conversation started.',
                             extra_xml=XHTML_FORGERY.replace('Private', '?OTR Error: Private'))
            err = line(alice, B, 'OTR error', since=mark)
            tap.ok(no_markup(err.text), "the peer's error text is shown as text", err.text)
        finally:
            close_all(alice, bob, raw)


def test_replay_and_duplicates(tap, server, trio):
    """The server delivers an OTR data message twice (duplication) and
    again later (replay): the text is shown once, the session holds."""
    alice, one = trio.alice, trio.one
    private_with(one, alice)
    mark_out = one.mark()
    one.send(A, 'said exactly once')
    stanza = one.wait_for(('xmpp-out', r'\?OTR:AAM'), since=mark_out)[0]
    body = re.search(r'<body>([^<]*)</body>', stanza).group(1)
    line(alice, B, 'said exactly once')
    raw = rawxmpp.RawClient('bob-raw', 'bob@localhost/one', 'bob-pw', server)
    try:
        # the same resource as /one: prosody hands the stanza over as if
        # /one sent it again (a resource conflict kicks /one off, which a
        # server can do as well)
        raw.connect()
        mark = alice.mark()
        raw.send_message('alice@localhost/e2e', body)
        raw.send_message('alice@localhost/e2e', body)
        raw.flush()
        harness.settle(alice)
        again = lines(alice, B, 'said exactly once', since=mark)
        tap.is_(again, [], 'a replayed message is not shown again')
        tap.ok(NOT_PRIVATE not in levels(alice, B, since=mark),
               'the replay does not end the private conversation')
    finally:
        close_all(raw)


# ---------------------------------------------------------------------------
# 6. what a peer can make the client do is bounded

def test_refresh_flood(tap, server, trio):
    alice, one = trio.alice, trio.one
    private_with(one, alice)
    mark = alice.mark()
    one.send_cmds(*[('cmd', A, 'otr refresh')] * 20)
    warn = line(alice, B, 'too many key exchanges', since=mark, timeout=40)
    tap.ok(warn.flags & harness.MSG_ERROR, 'a peer refreshing 20 times at once: alice is told it is '
           'too many')
    harness.settle(one, alice)
    done = lines(alice, B, 'refreshed|started', since=mark)
    tap.ok(len(done) <= 10, 'at most 10 key exchanges a minute are gone through (%d)' % len(done))
    tap.is_(len(lines(alice, B, 'too many key exchanges', since=mark)), 1, 'told once')
    tap.ok(NOT_PRIVATE not in levels(alice, B, since=mark),
           'the storm of key exchanges never makes the conversation Not private',
           repr(levels(alice, B, since=mark)))
    # the exchanges that got through go on answering each other for a while
    harness.quiet(one, alice)
    secret = 'alice after the storm'
    alice.send(B, secret)
    tap.ok(line(one, A, re.escape(secret), timeout=40), 'what alice types afterwards arrives')
    harness.settle(alice, one)
    tap.is_(plaintext_on_wire(server, [alice], secret), [], 'encrypted')


def told_too_many(tap, alice, mark, name):
    """Alice is told (once, as an error) that bob started too many key
    exchanges; then everything sent before has reached her."""
    warn = line(alice, B, 'too many key exchanges', since=mark, timeout=40)
    tap.ok(warn.flags & harness.MSG_ERROR, name)
    harness.settle(alice)


def otr_commit(sender_tag):
    """A v3 D-H commit (the first message of a key exchange) from a login
    with instance tag SENDER_TAG; its numbers are random, which the
    receiver can only find out later in the exchange."""
    egx = os.urandom(192)
    data = (struct.pack('>HBII', 3, 2, sender_tag, 0) + struct.pack('>I', len(egx)) + egx
            + struct.pack('>I', 32) + os.urandom(32))
    return '?OTR:' + base64.b64encode(data).decode() + '.'


def otr_fragments(message, sender_tag, size):
    """MESSAGE as OTR v3 fragments of SIZE characters, but for the first:
    "?OTR" alone, so that no fragment shows what kind of message it is."""
    pieces = [message[:4]] + [message[i:i + size] for i in range(4, len(message), size)]
    return ['?OTR|%08x|%08x,%05d,%05d,%s,' % (sender_tag, 0, k, len(pieces), piece)
            for k, piece in enumerate(pieces, 1)]


def test_fragmented_commit_flood(tap, server, trio):
    """The bound on key exchanges holds when the commits come in fragments
    (the receiver only sees a commit once libotr has put it together)."""
    alice, one = trio.alice, trio.one
    private_with(one, alice)
    with raw_bob(server) as raw:
        mark = alice.mark()
        for i in range(20):
            tag = 0x1000 + i
            for fragment in otr_fragments(otr_commit(tag), tag, 90):
                raw.send_message('alice@localhost/e2e', fragment)
        raw.flush()
        told_too_many(tap, alice, mark,
                      '20 key exchanges sent in fragments: alice is told it is too many')
        answers = alice.find(('xmpp-out', r'\?OTR:AAMK'), since=mark)
        tap.ok(1 <= len(answers) <= 10, 'alice answers at most 10 of them (%d)' % len(answers))
        tap.ok(NOT_PRIVATE not in levels(alice, B, since=mark),
               'the conversation stays private', repr(levels(alice, B, since=mark)))


def our_instance(client):
    """CLIENT's own OTR instance tag, read off a v3 message it sent."""
    body = client.wait_for(('xmpp-out', r'<body>\?OTR:AAM'))[0]
    data = re.search(r'<body>\?OTR:([A-Za-z0-9+/=]+)', body).group(1)
    return struct.unpack('>I', base64.b64decode(data[:16])[3:7])[0]


def otr_dh_key(sender_tag, receiver_tag):
    """A v3 D-H key message (the answer to a commit) from a login with
    instance tag SENDER_TAG."""
    gy = os.urandom(192)
    data = struct.pack('>HBII', 3, 0x0a, sender_tag, receiver_tag) + struct.pack('>I', len(gy)) + gy
    return '?OTR:' + base64.b64encode(data).decode() + '.'


def instances(client, peer):
    """The logins of PEER that CLIENT's libotr knows (/otr instance list)."""
    mark = client.mark()
    client.command(peer, 'otr instance list')
    line(client, peer, '^Messages go to', since=mark)
    return lines(client, peer, '^Instance of', since=mark)


def test_query_spellings(tap, server, trio):
    """A query has more spellings than "?OTRv23?": each starts a key
    exchange, each counts."""
    alice, one = trio.alice, trio.one
    private_with(one, alice)
    with raw_bob(server) as raw:
        mark = alice.mark()
        for i in range(20):
            raw.send_message('alice@localhost/e2e', '?OTR?v3?' if i % 2 else '?OTR?v23?')
        raw.flush()
        told_too_many(tap, alice, mark,
                      '20 queries spelt "?OTR?v3?": alice is told it is too many')
        commits = alice.find(('xmpp-out', r'<body>\?OTR:AAMC'), since=mark)
        tap.ok(len(commits) <= 10, 'alice answers at most 10 of them (%d)' % len(commits))


TAG_V3 = ' \t  \t\t\t\t \t \t \t  ' + '  \t\t  \t\t'   # whitespace tag offering OTR v3


def test_tag_flood(tap, server, trio):
    """Plain messages with the whitespace tag each start a key exchange
    (alice's policy answers the tag): beyond the bound the tag is dropped,
    never the text."""
    alice, one = trio.alice, trio.one
    private_with(one, alice)
    with raw_bob(server) as raw:
        mark = alice.mark()
        for i in range(15):
            raw.send_message('alice@localhost/e2e', 'tagged line %02d%s' % (i, TAG_V3))
        raw.flush()
        told_too_many(tap, alice, mark, '15 tagged messages: alice is told it is too many')
        shown = [w.text for w in alice.writes(B, since=mark) if 'tagged line' in w.text]
        tap.ok(all(any('tagged line %02d' % i in t for t in shown) for i in range(15)),
               'every one of the 15 texts is shown', repr(shown))
        commits = alice.find(('xmpp-out', r'<body>\?OTR:AAMC'), since=mark)
        tap.ok(len(commits) <= 10, 'alice starts at most 10 key exchanges for them (%d)' % len(commits))


def test_invented_logins(tap, server, trio):
    """Messages from logins nobody has (new instance tags) make libotr keep
    a context each: a bounded number of them, and none from messages that
    claim to be stored (anyone can add a <delay/>)."""
    alice, one = trio.alice, trio.one
    private_with(one, alice)
    tag = our_instance(alice)
    before = len(instances(alice, B))
    with raw_bob(server) as raw:
        mark = alice.mark()
        delay = "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>"
        for i in range(20):
            raw.send_message('alice@localhost/e2e', otr_commit(0x2000 + i), extra_xml=delay)
        raw.flush()
        harness.settle(alice)
        tap.is_(len(instances(alice, B)) - before, 0,
                '20 key exchanges marked as stored, from invented logins: no context kept')
        for i in range(20):
            raw.send_message('alice@localhost/e2e', otr_dh_key(0x3000 + i, tag))
        raw.flush()
        told_too_many(tap, alice, mark, '20 messages from invented logins: alice is told')
        added = len(instances(alice, B)) - before
        tap.ok(added <= 10, 'at most 10 of them kept a context (%d)' % added)
        alice.send(B, 'still private with one')
        tap.ok(line(one, A, 'still private with one', timeout=40), 'the real login still gets messages')


def test_smp_flood(tap, server, trio):
    alice, one = trio.alice, trio.one
    private_with(one, alice)
    mark = alice.mark()
    one.send_cmds(*[('cmd', A, 'otr smp ask "Again and again?" x')] * 8)
    ended = line(alice, B, 'too many times', since=mark, timeout=40)
    tap.ok(ended.flags & harness.MSG_ERROR, 'a peer asking to verify 8 times at once: alice ends '
           'the private conversation and says why')
    level(alice, B, FINISHED, since=mark)
    tap.ok(NOT_PRIVATE not in levels(alice, B, since=mark),
           'Finished: nothing alice types leaves in clear')
    asked = alice.find(('smp', '^' + B, '^%s$' % SMP_ASK_FOR_ANSWER), since=mark)
    tap.ok(len(asked) <= 6, 'at most 6 requests reached the user (%d)' % len(asked))


def main():
    tap = Tap()
    if not Prosody.available():
        tap.skip_all('prosody not installed')
    if not rawxmpp.available():
        tap.skip_all('python3-slixmpp not installed')
    tap.run('trust dialog binds to the key shown', with_trio(test_trust_dialog_binds), timeout=120)
    tap.run('/otr trust binds to the key shown', with_trio(test_trust_command_binds), timeout=120)
    tap.run('peer vanishes: Finished, held, resumed', with_private_buddies(test_peer_vanishes),
            timeout=120)
    tap.run('own connection drops: nothing in clear',
            with_private_buddies(test_own_connection_drops), timeout=120)
    tap.run('SMP answer goes to the login that asked', with_trio(test_smp_answer_to_asker),
            timeout=120)
    tap.run('SMP protocol error aborts', with_trio(test_smp_cheat_aborts), timeout=120)
    tap.run('no log while any login is private',
            with_trio(test_logging_all_instances, alice_log=True), timeout=120)
    tap.run('"don\'t log" applies at once',
            with_trio(test_logging_setting_applies, alice_log=True), timeout=120)
    tap.run('peer text is never markup', test_peer_text_not_markup, timeout=60)
    tap.run('replayed and duplicated data', with_trio(test_replay_and_duplicates), timeout=120)
    tap.run('refresh flood is bounded', with_trio(test_refresh_flood), timeout=120)
    tap.run('fragmented key exchange flood is bounded', with_trio(test_fragmented_commit_flood),
            timeout=120)
    tap.run('queries of every spelling are bounded', with_trio(test_query_spellings), timeout=120)
    tap.run('tagged messages are bounded, and shown', with_trio(test_tag_flood), timeout=120)
    tap.run('invented logins are bounded', with_trio(test_invented_logins), timeout=120)
    tap.run('verification flood is bounded', with_trio(test_smp_flood), timeout=120)
    tap.done()


if __name__ == '__main__':
    main()
