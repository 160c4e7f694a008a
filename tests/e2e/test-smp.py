# purple-otr - GPL-2.0-or-later (see COPYING)
# End-to-end tests of verification: SMP with a shared secret and with a
# question (success, failure, abort, started by either side, answered in the
# default dialog), manual trust, trust across restarts, a changed key for a
# verified buddy, forgetting a fingerprint. Two headless libpurple clients
# with purple-otr over a private prosody.

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import level, line, Client, Prosody, Tap  # noqa: E402

OTR = 'core-purple-otr'
UNVERIFIED, PRIVATE = '1', '2'
SMP_ASK_FOR_ANSWER, SMP_ASK_FOR_SECRET, SMP_SUCCESS, SMP_FAILURE, SMP_ABORT = '4', '5', '7', '8', '2'
A, B = 'alice@localhost', 'bob@localhost'
FP_RE = r'([0-9A-F]{8}(?: [0-9A-F]{8}){4})'


def smp(client, peer, event, **kw):
    return client.wait_for(('smp', '^' + re.escape(peer), '^%s$' % event), **kw)


def trust_in_file(client, buddy):
    """{fingerprint(40 hex): trust} of BUDDY in CLIENT's otr.fingerprints."""
    out = {}
    path = os.path.join(client.userdir, 'otr.fingerprints')
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for raw in f:
            fields = raw.rstrip('\n').split('\t')
            if len(fields) >= 4 and fields[0] == buddy:
                out[fields[3]] = fields[4] if len(fields) > 4 else ''
    return out


def new_client(server, name, userdir_of=None):
    return Client(name, '%s@localhost/e2e' % name, name + '-pw', server, plugins=[OTR])


class Pair(object):
    def __init__(self, server):
        server.register('alice', 'alice-pw')
        server.register('bob', 'bob-pw')
        self.server = server
        self.alice = new_client(server, 'alice')
        self.bob = new_client(server, 'bob')
        self.alice.login()
        self.bob.login()

    def go_private(self, expect=UNVERIFIED):
        self.alice.command(B, 'otr start')
        level(self.alice, B, expect, timeout=40)

    def close(self):
        harness.close_clients(self.alice, self.bob)


def with_pair(func):
    def run(tap):
        with Prosody() as server:
            pair = Pair(server)
            try:
                pair.go_private()
                level(pair.bob, A, UNVERIFIED, timeout=40)
                func(tap, server, pair)
            finally:
                pair.close()
    run.__name__ = func.__name__
    return run


def test_shared_secret(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    alice.command(B, 'otr smp ask correct horse battery')
    smp(bob, A, SMP_ASK_FOR_SECRET)
    tap.ok(line(bob, A, 'wants to verify you with a shared secret'),
           'bob is asked for the shared secret')
    req = bob.wait_for(('request', 'input'))
    tap.ok(req, 'and the default dialog asks him too (purple_request_input)')
    bob.command(A, 'otr smp respond correct horse battery')
    smp(alice, B, SMP_SUCCESS)
    smp(bob, A, SMP_SUCCESS)
    level(alice, B, PRIVATE)
    level(bob, A, PRIVATE)
    tap.ok(True, 'both sides reach Private')
    tap.is_(list(trust_in_file(alice, B).values()), ['smp'], "alice's file trusts bob (smp)")
    tap.is_(list(trust_in_file(bob, A).values()), ['smp'], "bob's file trusts alice (smp)")
    everything = [e.text for c in (alice, bob) for e in c.writes()]
    everything += alice.stderr_lines + bob.stderr_lines
    tap.ok(not any('battery' in t for t in everything),
           'the secret appears in no conversation line and no output')


def test_question(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    alice.command(B, 'otr smp ask "Where did we <first> meet?" the old harbour')
    smp(bob, A, SMP_ASK_FOR_ANSWER)
    asked = line(bob, A, 'asks')
    tap.ok('Where did we &lt;first&gt; meet?' in asked.text,
           "bob sees alice's question, as text", asked.text)
    bob.command(A, 'otr smp respond the old harbour')
    smp(alice, B, SMP_SUCCESS)
    level(alice, B, PRIVATE)
    tap.ok(line(alice, B, 'Verification succeeded'), 'alice: bob is verified')
    tap.ok(line(bob, A, 'has verified you.*in turn'),
           'bob is told he was verified and invited to verify alice in turn')
    tap.is_(list(trust_in_file(alice, B).values()), ['smp'], "alice's file trusts bob")
    tap.is_(list(trust_in_file(bob, A).values()), [''],
            "bob's file does not trust alice (the question was hers)")
    # bob verifies back, with a question of his own: the conversation he
    # started is the one that asks
    bob.command(A, 'otr smp ask "Our cat?" Felix')
    smp(alice, B, SMP_ASK_FOR_ANSWER)
    alice.command(B, 'otr smp respond Felix')
    level(bob, A, PRIVATE)
    tap.is_(list(trust_in_file(bob, A).values()), ['smp'], 'after verifying back, bob trusts alice')


def test_failure(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    bob.command(A, 'otr smp ask "Our cat?" Felix')     # started by bob this time
    smp(alice, B, SMP_ASK_FOR_ANSWER)
    alice.command(B, 'otr smp respond Garfield')
    smp(bob, A, SMP_FAILURE)
    smp(alice, B, SMP_FAILURE)
    tap.ok(line(bob, A, 'FAILED'), 'bob is told plainly that it failed')
    tap.ok(not bob.find(('level', '^' + A, '^2$')), 'bob stays Unverified')
    tap.is_(list(trust_in_file(bob, A).values()), [''], 'and trusts nothing')


def test_abort(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    alice.command(B, 'otr smp ask s3cret')
    smp(bob, A, SMP_ASK_FOR_SECRET)
    bob.command(A, 'otr smp abort')
    smp(alice, B, SMP_ABORT)
    tap.ok(line(alice, B, 'aborted'), 'alice is told bob aborted')
    alice.command(B, 'otr smp ask s3cret')
    smp(bob, A, SMP_ASK_FOR_SECRET)
    bob.command(A, 'otr smp respond s3cret')
    level(alice, B, PRIVATE)
    tap.ok(True, 'a verification after an abort works')


def test_dialog_answer(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    alice.command(B, 'otr smp ask "Favourite tea?" oolong')
    req = bob.wait_for(('request', 'input'))
    tap.ok('Favourite tea?' in ' '.join(req.fields), 'the dialog shows the question', repr(req))
    bob.call('request-answer', req[1], 'oolong')
    level(alice, B, PRIVATE)
    tap.ok(True, 'answering in the dialog verifies')


def test_default_dialogs(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    alice.command(B, 'otr smp')                       # no arguments: the dialog
    choice = alice.wait_for(('request', 'choice'))
    tap.ok(any('Question and answer' in f for f in choice.fields)
           and any('Shared secret' in f for f in choice.fields)
           and any('by hand' in f for f in choice.fields),
           'the method chooser offers the three methods', repr(choice))
    alice.call('request-answer', choice[1], '2')      # compare fingerprints by hand
    action = alice.wait_for(('request', 'action'))
    alice.command(B, 'otr fingerprint')
    theirs = re.search(FP_RE, line(alice, B, 'fingerprint in this conversation').text).group(1)
    tap.ok(theirs in ' '.join(action.fields), "the manual check shows bob's fingerprint",
           repr(action))
    alice.call('request-answer', action[1], '0')      # "I have verified it"
    level(alice, B, PRIVATE)
    tap.is_(list(trust_in_file(alice, B).values()), ['verified'], 'confirming it trusts the key')

    alice.command(B, 'otr distrust')
    level(alice, B, UNVERIFIED)
    alice.command(B, 'otr smp')
    choice = alice.wait_for(('request', 'choice'))
    alice.call('request-answer', choice[1], '0')      # question and answer
    fields = alice.wait_for(('request', 'fields'))
    alice.call('request-field', fields[1], 'question', 'Our cat?')
    alice.call('request-field', fields[1], 'secret', 'Felix')
    alice.call('request-answer', fields[1], 'ok')
    smp(bob, A, SMP_ASK_FOR_ANSWER)
    bob.command(A, 'otr smp respond Felix')
    level(alice, B, PRIVATE)
    tap.is_(list(trust_in_file(alice, B).values()), ['smp'],
            'a question asked through the dialogs verifies')


def test_manual_trust(tap, server, pair):
    alice = pair.alice
    alice.command(B, 'otr fingerprint')
    theirs = re.search(FP_RE, line(alice, B, "fingerprint in this conversation").text).group(1)
    alice.command(B, 'otr trust')
    level(alice, B, PRIVATE)
    hexfp = theirs.replace(' ', '').lower()
    tap.is_(trust_in_file(alice, B), {hexfp: 'verified'}, 'trust "verified" is saved at once')
    alice.command(B, 'otr distrust')
    level(alice, B, UNVERIFIED)
    tap.is_(trust_in_file(alice, B), {hexfp: ''}, 'and cleared at once')
    alice.command(B, 'otr trust')
    level(alice, B, PRIVATE)
    alice.restart()
    alice.login()
    pair.go_private(expect=PRIVATE)
    tap.ok(line(alice, B, 'Private conversation with bob@localhost started'),
           'after a restart the trust holds: Private at once')


def test_changed_key(tap, server, pair):
    alice, bob = pair.alice, pair.bob
    alice.command(B, 'otr trust')
    level(alice, B, PRIVATE)
    old = list(trust_in_file(alice, B))[0]
    bob.quit()
    bob.kill()
    level(alice, B, '3')                      # bob said goodbye on his way out
    pair.bob = new_client(server, 'bob')      # same account, new device, new key
    pair.bob.login()
    alice.command(B, 'otr start')
    level(pair.bob, A, UNVERIFIED, timeout=40)
    warning = line(alice, B, 'WARNING.*NEW key', timeout=40)
    tap.ok(warning.flags & harness.MSG_ERROR, 'a changed key for a verified buddy is a loud warning')
    alice.command(B, 'otr refresh')
    line(alice, B, 'WARNING.*NEW key', timeout=40)
    tap.ok(True, 'repeated at every new private conversation')
    alice.command(B, 'otr forget ' + old)
    tap.ok(line(alice, B, 'Forgot the fingerprint'), 'the old key can be forgotten')
    tap.ok(old not in trust_in_file(alice, B), 'and is gone from the file')
    current = [fp for fp in trust_in_file(alice, B)][0]
    alice.command(B, 'otr forget ' + current)
    tap.ok(line(alice, B, 'in use'), 'the key in use cannot be forgotten')
    mark = alice.mark()
    alice.command(B, 'otr refresh')
    said = line(alice, B, '^(Refreshing|Starting) ', since=mark)
    tap.ok(said.text.startswith('Refreshing'), 'a refresh says so, not "Starting"', said.text)
    line(alice, B, 'refreshed', since=mark, timeout=40)
    tap.ok(not alice.find(('write', '^' + B, None, None, 'WARNING'), since=mark),
           'with the old key forgotten, the warning stops')


def test_usage(tap, server, pair):
    alice = pair.alice
    for cmdline, expect in (('otr smp ask', 'Usage: /otr smp ask'),
                            ('otr smp ask "no end', 'closing double quote'),
                            ('otr smp respond', 'Usage: /otr smp respond'),
                            ('otr forget 1234', 'Usage: /otr forget'),
                            ('otr bogus', 'Unknown OTR command')):
        mark = alice.mark()
        alice.command(B, cmdline)
        tap.ok(line(alice, B, re.escape(expect), since=mark), '/%s gets a usage line' % cmdline)


def main():
    tap = Tap()
    if not Prosody.available():
        tap.skip_all('prosody not installed')
    for name, func in (('shared secret', test_shared_secret),
                       ('question and answer, and verifying back', test_question),
                       ('wrong answer, started by the other side', test_failure),
                       ('abort', test_abort),
                       ('answer in the default dialog', test_dialog_answer),
                       ('default dialogs: method, manual check, question', test_default_dialogs),
                       ('manual trust, across a restart', test_manual_trust),
                       ('changed key of a verified buddy, forgetting keys', test_changed_key),
                       ('usage lines', test_usage)):
        tap.run(name, with_pair(func), timeout=120)
    tap.done()


if __name__ == '__main__':
    main()
