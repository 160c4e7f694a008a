# purple-otr - GPL-2.0-or-later
# Self-test of the end-to-end harness, without the OTR plugin: a private
# prosody, two libpurple clients, one message, and the server's archive.
# If this passes, "the archive holds no plaintext" in the OTR tests means
# something: here the archive reader must find the plaintext.

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Prosody, Tap  # noqa: E402

HTML = 'a &lt; b &amp; c \u00e9\u263a'     # what Pidgin sends for "a < b & c é☺"
PLAIN = 'a < b & c \u00e9\u263a'


def test_plaintext_roundtrip(tap):
    with Prosody() as server:
        alice_jid = server.register('alice', 'alice-pw') + '/e2e'
        bob_jid = server.register('bob', 'bob-pw') + '/e2e'
        alice = Client('alice', alice_jid, 'alice-pw', server)
        bob = Client('bob', bob_jid, 'bob-pw', server, log=True)
        try:
            tap.ok(alice.find('ready') and bob.find('ready'),
                   'both clients start')
            alice.login()
            bob.login()
            server.wait_sessions('alice@localhost', 1)
            server.wait_sessions('bob@localhost', 1)
            tap.ok(True, 'both clients sign on, the server sees both')

            alice.send('bob@localhost', HTML)
            got = bob.wait_for(('write', '^alice@localhost', None, None,
                                'a &lt; b'))
            tap.is_(got.text, HTML, 'bob receives the message (as HTML)')
            tap.ok(got.flags & harness.MSG_RECV, 'it is flagged received')
            sent = alice.writes('bob@localhost')
            tap.ok(any(w.flags & harness.MSG_SEND and w.text == HTML
                       for w in sent), 'alice sees her own line',
                   repr(sent))

            alice.flush()
            bodies = server.archive_bodies('bob')
            tap.ok(PLAIN in bodies, "bob's archive holds the plaintext",
                   'archive bodies: %r' % bodies)
            tap.ok(PLAIN in server.archive_bodies('alice'),
                   "alice's archive holds it too")
            msgs = [m for m in server.archive('bob') if m.body == PLAIN]
            tap.ok(msgs and msgs[0].with_ == 'alice@localhost'
                   and '&lt;' in msgs[0].xml,
                   'archive items carry the peer and the stanza XML',
                   repr(msgs))

            stored = [(store, user) for store, user, m
                      in server.stored_stanzas() if m.body == PLAIN]
            tap.ok(('archive', 'bob') in stored and ('archive', 'alice')
                   in stored, 'stored_stanzas() walks every store',
                   repr(stored))
            tap.ok(server.grep_data('a < b & c'),
                   'grep_data() finds the ASCII part in the raw files')

            since = bob.mark()
            alice.send('bob@localhost', 'after settle')
            harness.settle(alice, bob)
            tap.ok(bob.find(('write', None, None, None, '^after settle$'),
                            since=since),
                   'settle(): the message is in bob\'s history, no waiting')

            bob.logout()
            server.wait_offline('bob@localhost')
            alice.send('bob@localhost', 'while you were out')
            alice.flush()
            tap.ok('while you were out' in server.archive_bodies('bob',
                                                                 'offline'),
                   'offline store readable too')
            bob.login()
            late = bob.wait_for(('write', None, None, None, 'were out'))
            tap.ok(late.flags & harness.MSG_RECV,
                   'logout/login: the offline message arrives', repr(late))

            alice.crash()
            alice.start()
            alice.login()
            tap.ok(alice.alive(), 'alice comes back after a crash')

            status, err = alice.command('bob@localhost', 'no-such-command')
            tap.is_(status, 'not-found', 'unknown slash command reported')

            bob.restart()
            tap.ok(bob.login()[0].startswith('bob@localhost'),
                   'bob restarts with the same userdir')
            logs = bob.logs()
            tap.ok(any('a < b' in text for text in logs.values()),
                   "bob's --log text log holds the message", repr(logs))
        finally:
            try:
                alice.quit()
                bob.quit()
            finally:
                alice.kill()
                bob.kill()
        tap.ok(all(e.kind != 'conn-error' for e in alice.events + bob.events),
               'no connection errors')


def test_requests_and_notices(tap):
    """The request/notify plumbing, with requests raised by the client
    itself (no server, no plugin: the client never signs on)."""
    c = Client('solo', 'solo@localhost/e2e', 'pw', harness.free_port())
    try:
        def ask(kind):
            since = c.mark()
            c.call('selftest-request', kind)
            return c.wait_for('request', since=since)

        req = ask('input')
        tap.ok(req[0] == 'input' and req[2:6] == ['Title', 'Primary',
                                                 'Secondary', 'default'],
               'input request printed with title, texts and default',
               repr(req))
        c.call('request-answer', req[1], 'hello \u263a\ttab')
        tap.is_(c.wait_for(('selftest-result', '^input$'))[1],
                'hello \u263a\ttab', 'input answer reaches the callback')
        tap.ok(c.wait_for(('request-closed', '^%s$' % req[1])),
               'answered request is closed')

        req = ask('choice')
        tap.is_(req[5:], ['red', 'green'], 'choice labels listed')
        c.call('request-answer', req[1], '1')
        tap.is_(c.wait_for(('selftest-result', '^choice$'))[1], '20',
                'choice index maps to its value')

        req = ask('action')
        tap.is_(req[5:], ['Zero', 'One', 'Two'], 'action labels listed')
        c.call('request-answer', req[1], '2')
        tap.is_(c.wait_for(('selftest-result', '^action$'))[1], '2',
                'action index reaches its callback')

        req = ask('fields')
        tap.is_(req[5:], ['name:string:Name', 'flag:boolean:Flag'],
                'fields listed as id:type:label')
        c.call('request-field', req[1], 'name', 'Zo\u00eb')
        c.call('request-field', req[1], 'flag', '1')
        c.call('request-answer', req[1], 'ok')
        tap.is_(c.wait_for(('selftest-result', '^fields$'))[1],
                'name=Zo\u00eb flag=1', 'field values reach the callback')

        req = ask('input')
        c.call('request-cancel', req[1])
        tap.is_(c.wait_for(('selftest-result', '^input$'))[1], '(cancelled)',
                'request-cancel runs the cancel callback')

        first, second = ask('action'), ask('fields')
        c.call('selftest-request', 'close-all')
        for r in (first, second):
            c.wait_for(('request-closed', '^%s$' % r[1]))
        tap.ok(not c.find(('selftest-result', '^(action|fields)$'),
                          since=first.index),
               'requests closed by their owner end without an answer')
        try:
            c.call('request-answer', first[1], '0')
            refused = False
        except harness.HarnessError:
            refused = True
        tap.ok(refused, 'answering a closed request is an error')

        c.call('selftest-notify')
        n1 = c.wait_for('notify')
        n2 = c.wait_for('notify')
        tap.ok(n1.fields == ['Title', 'Primary', 'Secondary'] and
               n2.fields == ['Title', 'Primary', 'Secondary', '<b>text</b>'],
               'notify_message and notify_formatted printed', repr((n1, n2)))

        since = c.mark()
        c.send_cmds(*[('pref-bool', '/purple/logging/log_system', v)
                      for v in ('1', '0', '1')])      # one write, 3 lines
        c.call('pref-string', '/purple/away/idle_reporting', 'none')
        tap.is_(len(c.find(('ok', '^pref-bool$'), since=since)), 3,
                'a burst of commands is processed in order')

        for bad in (('no-such-command',), ('send', 'only-one-arg'),
                    ('pref-bool', '/x', 'maybe'),
                    ('pref-bool', '/no/such/parent', '1'),
                    ('pref-int', '/purple/away/idle_reporting', '3')):
            try:
                c.call(*bad)
                ok = False
            except harness.HarnessError:
                ok = True
            tap.ok(ok, 'bad command refused: %s' % ' '.join(bad))
    finally:
        try:
            c.quit()
        finally:
            c.kill()


def main():
    tap = Tap()
    if not Prosody.available():
        tap.skip_all('prosody not installed')
    tap.run('requests and notices round trip', test_requests_and_notices,
            timeout=60)
    tap.run('plaintext round trip through prosody', test_plaintext_roundtrip,
            timeout=90)
    tap.done()


if __name__ == '__main__':
    main()
