# purple-otr - GPL-2.0-or-later (see COPYING)
# End-to-end tests of the core plugin: two headless libpurple clients with
# purple-otr over a private prosody. Keys, key exchange, messages both ways,
# what the server archives, the "always" policy, ending a session, keys
# across restarts, logging, bad input from the peer.

import os
import re
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import level, line, Client, Prosody, Tap  # noqa: E402

OTR = 'core-purple-otr'
NOT_PRIVATE, UNVERIFIED, PRIVATE, FINISHED = '0', '1', '2', '3'


def texts(client, peer):
    return [w.text for w in client.writes(peer)]


class Pair(object):
    """alice and bob, each a client with purple-otr, signed on."""

    def __init__(self, server, alice_plugins=(OTR,), bob_plugins=(OTR,), log=False,
                 alice_env=None, bob_env=None):
        self.server = server
        self.alice = Client('alice', server.register('alice', 'alice-pw') + '/e2e',
                            'alice-pw', server, plugins=alice_plugins, log=log, env=alice_env)
        self.bob = Client('bob', server.register('bob', 'bob-pw') + '/e2e',
                          'bob-pw', server, plugins=bob_plugins, log=log, env=bob_env)
        self.alice.login()
        self.bob.login()

    def go_private(self, timeout=40):
        """alice starts OTR; both reach Unverified."""
        self.alice.command('bob@localhost', 'otr start')
        level(self.alice, 'bob@localhost', UNVERIFIED, timeout=timeout)
        level(self.bob, 'alice@localhost', UNVERIFIED, timeout=timeout)

    def close(self):
        harness.close_clients(self.alice, self.bob)


def run_with_server(func, tap):
    with Prosody() as server:
        func(tap, server)


def with_pair(func, **pair_kw):
    def run(tap):
        with Prosody() as server:
            pair = Pair(server, **pair_kw)
            try:
                func(tap, server, pair)
            finally:
                pair.close()
    run.__name__ = func.__name__
    return run


def test_private_conversation(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    pair.go_private()
    tap.ok(alice.find(('keygen', 'alice@localhost', '^1$'))
           and bob.find(('keygen', 'bob@localhost', '^1$')),
           'both keys were generated in the background (keygen events)')
    tap.ok(line(alice, 'bob@localhost', 'Unverified conversation'),
           'alice is told the conversation is encrypted but unverified')

    alice.send('bob@localhost', 'meet me at &lt;noon&gt; &amp; bring the key')
    got = line(bob, 'alice@localhost', 'meet me')
    tap.is_(got.text, 'meet me at &lt;noon&gt; &amp; bring the key',
            'bob reads what alice typed')
    tap.ok(got.flags & harness.MSG_RECV, 'as a received message')
    bob.send('alice@localhost', 'see you there')
    tap.is_(line(alice, 'bob@localhost', 'see you').text, 'see you there',
            'alice reads the reply')

    alice.command('bob@localhost', 'otr status')
    status = line(alice, 'bob@localhost', 'OTR status').text
    tap.ok(re.search(r'\bUnverified\b', status)
           and not re.search(r'Not private|\bPrivate\b|Finished', status),
           '/otr status names exactly one level', status)

    alice.flush()
    bob.flush()
    for user in ('alice', 'bob'):
        bodies = server.archive_bodies(user)
        tap.ok(not any('meet me' in b or 'see you' in b for b in bodies),
               "%s's server archive holds no plaintext" % user, repr(bodies))
        tap.ok(not any(b.lstrip().startswith('?OTR:') for b in bodies),
               "%s's server archive holds no OTR data either" % user, repr(bodies))

    for client in (alice, bob):
        for name in ('otr.private_key', 'otr.fingerprints', 'otr.instance_tags'):
            path = os.path.join(client.userdir, name)
            mode = stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else None
            tap.is_(mode, 0o600, '%s: %s exists with mode 0600' % (client.name, name))


def test_always_policy(tap, server, pair):
    alice, bob = pair.alice, pair.bob     # bob starts without purple-otr
    alice.call('pref-bool', '/OTR/onlyprivate', '1')
    alice.send('bob@localhost', 'held secret one')
    alice.send('bob@localhost', 'held secret two')
    tap.ok(line(alice, 'bob@localhost', 'Not sent yet'),
           'alice is told her message waits for the private conversation')
    query = line(bob, 'alice@localhost', r'\?OTRv')
    tap.ok(query, 'bob (no OTR) receives an OTR query instead', repr(query))

    bob.call('plugin-load', OTR)
    bob.wait_for(('plugin-loaded', OTR))
    alice.command('bob@localhost', 'otr start')
    level(bob, 'alice@localhost', UNVERIFIED, timeout=40)
    first = line(bob, 'alice@localhost', 'held secret one')
    second = line(bob, 'alice@localhost', 'held secret two')
    tap.ok(first.index < second.index, 'once private, bob gets both held messages, in order')
    tap.ok(line(alice, 'bob@localhost', 'waiting messages were sent privately'),
           'alice is told they were sent')

    before = [w.text for w in bob.writes('alice@localhost') if w.index < first.index]
    tap.ok(not any('held secret' in t for t in before),
           'not one byte of them reached bob in clear', repr(before))
    alice.flush()
    bodies = server.archive_bodies('bob') + server.archive_bodies('alice')
    tap.ok(not any('held secret' in b for b in bodies), 'nor the server', repr(bodies))


def test_end_session(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    pair.go_private()
    alice.command('bob@localhost', 'otr end')
    level(alice, 'bob@localhost', NOT_PRIVATE)
    level(bob, 'alice@localhost', FINISHED)
    tap.ok(line(bob, 'alice@localhost', 'has ended the private conversation'),
           'bob is told alice ended it')
    bob.send('alice@localhost', 'typed after the end')
    tap.ok(line(bob, 'alice@localhost', 'NOT sent'),
           'in Finished, what bob types is refused with a clear line')
    bob.command('alice@localhost', 'otr end')
    level(bob, 'alice@localhost', NOT_PRIVATE)
    bob.send('alice@localhost', 'plain again')
    line(alice, 'bob@localhost', 'plain again')
    tap.ok(not any('typed after the end' in t for t in texts(alice, 'bob@localhost')),
           'the refused message never reached alice')


def fingerprint_of(client, peer, own=True):
    client.command(peer, 'otr fingerprint')
    ev = line(client, peer, 'Your fingerprint' if own else "fingerprint in this")
    return re.search(r'([0-9A-F]{8}( [0-9A-F]{8}){4})', ev.text).group(1)


def test_keys_survive_restart(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    pair.go_private()
    before = fingerprint_of(alice, 'bob@localhost')
    alice.restart()
    alice.login()
    pair.go_private()
    after = fingerprint_of(alice, 'bob@localhost')
    tap.is_(after, before, "alice's key is the same after a restart")
    tap.ok(not alice.find('keygen'), 'and no key was generated again')
    tap.is_(len(bob.find(('write', '^alice@localhost', None, None,
                          'key you have not seen before'))), 1,
            'bob saw a new key for alice only once')


def test_no_logging(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    alice.send('bob@localhost', 'logged in the clear')
    line(bob, 'alice@localhost', 'logged in the clear')
    pair.go_private()
    bob.call('conv-close', 'alice@localhost')
    alice.send('bob@localhost', 'never on disk')
    got = line(bob, 'alice@localhost', 'never on disk')
    tap.ok(got.flags & harness.MSG_RECV, 'the first message of a new window is shown as received')
    bob.send('alice@localhost', 'nor this')
    line(alice, 'bob@localhost', 'nor this')
    alice.flush()
    bob.flush()
    for client in (alice, bob):
        logs = '\n'.join(client.logs().values())
        tap.ok('logged in the clear' in logs, '%s logs the plain message (logging works)'
               % client.name, logs[-500:])
        tap.ok('never on disk' not in logs and 'nor this' not in logs,
               '%s logs nothing of the private conversation' % client.name)


def test_bad_input(tap, server, pair):
    alice, bob = pair.alice, pair.bob     # bob has no OTR: he sends raw text
    bad = [
        ('?OTR:AAMD', 'truncated data'),
        ('?OTR:AAMD' + '!!!!' * 10 + '.', 'data that is not base64'),
        ('?OTR:' + 'A' * 60000 + '.', 'oversized data'),
        ('?OTR,00001,00002,abc,', 'a lone fragment'),
        ('?OTR Error: &lt;b&gt;boom&lt;/b&gt; %s%n', 'an OTR error with markup and formats'),
    ]
    for body, what in bad:
        mark = alice.mark()
        bob.send('alice@localhost', body)
        bob.send('alice@localhost', 'sync after ' + what)
        line(alice, 'bob@localhost', 'sync after ' + re.escape(what), since=mark)
        tap.ok(alice.alive(), 'alice survives %s' % what)
    tap.ok(line(alice, 'bob@localhost', 'OTR error from bob@localhost: &lt;b&gt;boom'),
           'the OTR error is shown as text, once escaped')
    tap.ok(not any('<b>boom' in t for t in texts(alice, 'bob@localhost')),
           'its markup is not interpreted')
    bob.call('plugin-load', OTR)
    bob.wait_for(('plugin-loaded', OTR))
    pair.go_private()
    alice.send('bob@localhost', 'still works')
    tap.ok(line(bob, 'alice@localhost', 'still works'), 'a private conversation still works')


WHITESPACE_TAG_V3 = ' \t  \t\t\t\t \t \t \t  ' + '  \t\t  \t\t'


def test_stalled_key_exchange(tap, server, pair):
    alice, bob = pair.alice, pair.bob     # bob has no OTR: he never finishes an exchange
    alice.command('bob@localhost', 'otr start')
    line(bob, 'alice@localhost', r'\?OTRv')
    # bob answers with a whitespace tag, as an OTR client would: alice's
    # libotr begins a key exchange, which never finishes
    bob.send('alice@localhost', 'hello' + WHITESPACE_TAG_V3)
    tap.ok(line(alice, 'bob@localhost', 'did not finish; trying again', timeout=20),
           'a key exchange that stalls is started again, and alice is told')
    tap.ok(line(bob, 'alice@localhost', r'\?OTRv', timeout=20), 'bob gets a new query')
    tap.ok(line(alice, 'bob@localhost', 'did not finish; trying again', timeout=20)
           and line(bob, 'alice@localhost', r'\?OTRv', timeout=20),
           'and once more')


def test_both_start_at_once(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    for client, peer in ((alice, 'bob@localhost'), (bob, 'alice@localhost')):
        client.command(peer, 'otr genkey')
        client.wait_for(('keygen', None, '^1$'))
    # both ask at the same moment: the queries cross, then the D-H commits
    # cross; no retry may paper over it (patience 600 s in this test)
    for i in range(3):
        marks = (alice.mark(), bob.mark())
        alice.send_cmd('cmd', 'bob@localhost', 'otr refresh')
        bob.send_cmd('cmd', 'alice@localhost', 'otr refresh')
        for client, peer, mark in ((alice, 'bob@localhost', marks[0]),
                                   (bob, 'alice@localhost', marks[1])):
            line(client, peer, 'refreshed|conversation with .* started', since=mark, timeout=20)
        alice.send('bob@localhost', 'crossed fine %d' % i)
        line(bob, 'alice@localhost', 'crossed fine %d' % i)
    tap.ok(True, 'three times both started at once, and the session came up each time')
    tap.ok(not alice.find(('write', None, None, None, 'trying again'))
           and not bob.find(('write', None, None, None, 'trying again')),
           'without a retry')


def test_peer_lost_session(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    pair.go_private()
    alice.send('bob@localhost', 'before the crash')
    line(bob, 'alice@localhost', 'before the crash')
    bob.crash()                          # no goodbye: alice still thinks it private
    server.wait_offline(bob.jid)
    bob.start()
    bob.login()
    bob.flush()                          # his presence is in: messages reach him live
    alice.send('bob@localhost', 'lost in the void')
    told = line(alice, 'bob@localhost', 'could not read one of your messages', timeout=20)
    tap.ok('lost in the void' in told.text,
           'bob could not read it: alice is told, and which message may be lost', told.text)
    level(bob, 'alice@localhost', UNVERIFIED, timeout=40)
    tap.ok(True, 'and the private conversation is refreshed by itself')
    alice.send('bob@localhost', 'again, privately')
    tap.ok(line(bob, 'alice@localhost', 'again, privately'), 'so she can say it again')


def test_fragments(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    alice.call('account-int', 'otr.max_message_size', '300')
    alice.call('xmpp-trace', '1')
    pair.go_private()
    text = ' '.join('word%d' % i for i in range(250))          # about 1,700 bytes
    mark = alice.mark()
    alice.send('bob@localhost', text)
    got = line(bob, 'alice@localhost', 'word249')
    tap.is_(got.text, text, 'a long message arrives whole, in order')
    bodies = [re.search(r'<body>(.*?)</body>', e[0], re.S).group(1)
              for e in alice.find(('xmpp-out', r'<body>\?OTR[|,]'), since=mark)]
    tap.ok(len(bodies) >= 5, 'it went as fragments (%d)' % len(bodies))
    tap.ok(all(len(b) <= 300 for b in bodies),
           "none longer than the account's otr.max_message_size (300)",
           repr([len(b) for b in bodies]))
    mark = alice.mark()
    bob.send('alice@localhost', text)
    tap.is_(line(alice, 'bob@localhost', 'word249').text, text,
            "bob's account has no limit (XMPP): his long message arrives too")


def test_tiny_fragments(tap, server, pair):
    """An account limit smaller than a fragment's header (here 20) is
    raised to the smallest workable size: the key exchange and messages go
    in fragments of at most that size (libotr alone divides by zero)."""
    alice, bob = pair.alice, pair.bob
    alice.call('account-int', 'otr.max_message_size', '20')
    alice.call('xmpp-trace', '1')
    mark = alice.mark()
    pair.go_private()
    alice.send('bob@localhost', 'small pieces arrive')
    line(bob, 'alice@localhost', 'small pieces arrive')
    bodies = [re.search(r'<body>(.*?)</body>', e[0], re.S).group(1)
              for e in alice.find(('xmpp-out', r'<body>\?OTR[|,]'), since=mark)]
    tap.ok(bodies and max(len(b) for b in bodies) <= 64,
           'a limit of 20: private all the same, in fragments of at most 64 characters',
           repr(sorted(set(len(b) for b in bodies))))


def test_html(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    harness.subscribe(alice, bob)        # presence: each learns the other renders XHTML
    pair.go_private()
    alice.send('bob@localhost', '<b>bold</b> and <i>italic</i> &amp; a &lt; b')
    got = line(bob, 'alice@localhost', 'bold')
    tap.ok('<b>bold</b>' in got.text and '<i>italic</i>' in got.text,
           "a Pidgin user's formatting reaches another Pidgin user", got.text)
    tap.ok('&amp;' in got.text and '&lt; b' in got.text, 'and text stays text', got.text)


def mkprofile(userdir, account, *buddies):
    """OTR files as pidgin-otr leaves them; returns the key's fingerprint."""
    tool = os.path.join(os.environ.get('POTR_BUILDDIR', '.'), 'tests', 'e2e', 'mkprofile')
    out = subprocess.run([tool, userdir, account, 'prpl-jabber'] + list(buddies),
                         check=True, stdout=subprocess.PIPE, timeout=60)
    return out.stdout.decode().strip()


def human(fp):
    return ' '.join(fp[i:i + 8].upper() for i in range(0, 40, 8))


def test_migration(tap, server):
    server.register('alice', 'alice-pw')
    server.register('bob', 'bob-pw')
    alice = Client('alice', 'alice@localhost/e2e', 'alice-pw', server, plugins=[OTR], start=False)
    bob = Client('bob', 'bob@localhost/e2e', 'bob-pw', server, plugins=[OTR], start=False)
    try:
        bob_fp = mkprofile(bob.userdir, 'bob@localhost/e2e')
        alice_fp = mkprofile(alice.userdir, 'alice@localhost/e2e', 'bob@localhost', bob_fp, 'verified')
        key = os.path.join(alice.userdir, 'otr.private_key')
        os.chmod(key, 0o644)                 # as an old umask may have left it
        for c in (alice, bob):
            c.start()
            c.login()
        alice.command('bob@localhost', 'otr start')
        level(alice, 'bob@localhost', PRIVATE, timeout=40)
        tap.ok(True, "pidgin-otr's trust in bob's key holds: Private at once")
        tap.ok(not alice.find('keygen') and not bob.find('keygen'),
               "pidgin-otr's keys are used: none is generated")
        alice.command('bob@localhost', 'otr fingerprint')
        tap.ok(human(alice_fp) in line(alice, 'bob@localhost', 'Your fingerprint').text,
               "alice's fingerprint is the one pidgin-otr made")
        tap.is_(stat.S_IMODE(os.stat(key).st_mode), 0o600, 'and her key file is now 0600')
        level(bob, 'alice@localhost', UNVERIFIED)
        tap.ok(True, 'bob, who never verified alice, sees Unverified')
    finally:
        harness.close_clients(alice, bob)


def main():
    tap = Tap()
    if not Prosody.available():
        tap.skip_all('prosody not installed')
    tap.run("private conversation", with_pair(test_private_conversation), timeout=120)
    tap.run('policy always', with_pair(test_always_policy, bob_plugins=()), timeout=120)
    tap.run('ending a session', with_pair(test_end_session), timeout=120)
    tap.run('keys survive a restart', with_pair(test_keys_survive_restart), timeout=120)
    tap.run('private conversations are not logged', with_pair(test_no_logging, log=True),
            timeout=120)
    tap.run('bad input from the peer', with_pair(test_bad_input, bob_plugins=()), timeout=120)
    tap.run('the peer lost its session', with_pair(test_peer_lost_session), timeout=120)
    tap.run('formatting between two libpurple clients', with_pair(test_html), timeout=120)
    tap.run('fragments for a small account limit', with_pair(test_fragments), timeout=120)
    tap.run('fragments for a tiny account limit', with_pair(test_tiny_fragments), timeout=120)
    tap.run('both sides start at once', with_pair(
        test_both_start_at_once, alice_env={'POTR_AKE_PATIENCE': '600'},
        bob_env={'POTR_AKE_PATIENCE': '600'}), timeout=180)
    tap.run("a pidgin-otr user's files", lambda tap: run_with_server(test_migration, tap),
            timeout=120)
    tap.run('a stalled key exchange is retried',
            with_pair(test_stalled_key_exchange, bob_plugins=(), alice_env={'POTR_AKE_PATIENCE': '2'}),
            timeout=120)
    tap.done()


if __name__ == '__main__':
    main()
