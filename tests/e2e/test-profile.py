# purple-otr - GPL-2.0-or-later (see COPYING)
# Two programs on one profile: several headless libpurple clients with
# purple-otr share one user folder, as Pidgin and Finch do on one ~/.purple.
# A key generated in one survives the other's writes; a trust, distrust or
# forget made in one is neither lost nor undone by a later write of the
# other; and a program sees the other's change before it reports a level.
#
#   alice   alice@localhost/a, on the server, talks OTR with bob
#   carol   carol@localhost/c, same folder: generates a key, forgets fingerprints
#   alice2  alice@localhost/a too, same folder, signed on to a second server
#           (so the two logins of one account don't throw each other out):
#           the "other program" that forgets alice's buddy's fingerprint
#   bob     his own folder

import os
import re
import secrets
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import level, Client, Prosody, Tap  # noqa: E402

OTR = 'core-purple-otr'
NOT_PRIVATE, UNVERIFIED, PRIVATE, FINISHED = '0', '1', '2', '3'
TOOL = os.path.join(harness._default_builddir(), 'tests', 'fault', 'storetool')
ALICE = 'alice@localhost/a'
CAROL = 'carol@localhost/c'


def said(client, peer, regex, **kw):
    return client.wait_for(('write', '^' + re.escape(peer), None, None, regex), **kw)


def libotr_view(folder):
    """The folder's files as libotr's own readers see them."""
    r = subprocess.run([TOOL, 'show-libotr', folder], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    keys = {}
    fps = {}
    for line in r.stdout.splitlines():
        f = line.split('\t')
        if f[0] == 'key':
            keys[f[1]] = f[3]
        elif f[0] == 'fp':
            fps[(f[1], f[2], f[4])] = f[5]
    return keys, fps


def trust(folder, buddy, account, hexfp):
    """The trust libotr reads for that fingerprint, None when absent."""
    return libotr_view(folder)[1].get((buddy, account, hexfp))


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)


def peer_hex(folder, account):
    """bob's fingerprint as alice's folder holds it (40 hex)."""
    for (buddy, acc, hexfp), _ in libotr_view(folder)[1].items():
        if buddy == 'bob@localhost' and acc == account:
            return hexfp
    return None


def test_profile(tap):
    f1, f2, f3, f4 = (secrets.token_hex(20) for _ in range(4))
    with Prosody() as server, Prosody() as server2:
        for user in ('alice', 'carol', 'bob'):
            server.register(user, user + '-pw')
        server2.register('alice', 'alice-pw')
        alice = Client('alice', ALICE, 'alice-pw', server, plugins=[OTR], start=False)
        folder = alice.userdir
        # what the profile knew before: alice's and carol's buddies
        write_private(os.path.join(folder, 'otr.fingerprints'), ''.join(
            '%s\t%s\tprpl-jabber\t%s\t%s\n' % row for row in (
                ('dave@localhost', ALICE, f1, 'verified'),
                ('erin@localhost', CAROL, f2, 'verified'),
                ('frank@localhost', CAROL, f3, 'smp'),
                ('grace@localhost', CAROL, f4, 'verified'))))
        carol = Client('carol', CAROL, 'carol-pw', server, plugins=[OTR], start=False)
        alice2 = Client('alice2', ALICE, 'alice-pw', server2, plugins=[OTR], start=False)
        bob = Client('bob', 'bob@localhost/e2e', 'bob-pw', server, plugins=[OTR])
        clients = [alice, carol, alice2, bob]
        try:
            # all three read the folder before any of them writes
            for c in (carol, alice2):
                c.userdir = folder
            for c in (alice, carol, alice2):
                c.start()
            for c in clients:
                c.login()

            # carol makes her key; then alice's key is made (for OTR with
            # bob) while carol forgets frank's fingerprint
            carol.command('erin@localhost', 'otr genkey')
            carol.wait_for(('keygen', '^' + re.escape(CAROL), '^1$'), timeout=60)
            alice.command('bob@localhost', 'otr start')
            carol.command('frank@localhost', 'otr forget ' + f3)
            said(carol, 'frank@localhost', 'Forgot the fingerprint')
            level(alice, 'bob@localhost', UNVERIFIED, timeout=60)
            level(bob, 'alice@localhost', UNVERIFIED, timeout=60)
            keys, fps = libotr_view(folder)
            tap.ok(ALICE in keys and CAROL in keys,
                   'the key file holds both keys: carol\'s survived alice\'s key generation',
                   repr(sorted(keys)))
            tap.ok(('frank@localhost', CAROL, f3) not in fps
                   and fps.get(('dave@localhost', ALICE, f1)) == 'verified'
                   and fps.get(('grace@localhost', CAROL, f4)) == 'verified',
                   'carol\'s forget was not undone by alice\'s writes; the rest is kept', repr(fps))
            bob_hex = peer_hex(folder, ALICE)
            tap.ok(bob_hex is not None, 'bob\'s fingerprint (alice\'s new buddy) is in the file')

            alice.command('bob@localhost', 'otr trust')
            level(alice, 'bob@localhost', PRIVATE)
            tap.is_(trust(folder, 'bob@localhost', ALICE, bob_hex), 'verified',
                    'alice trusts bob: the file says so')
            carol.command('erin@localhost', 'otr forget ' + f2)
            said(carol, 'erin@localhost', 'Forgot the fingerprint')
            tap.is_(trust(folder, 'bob@localhost', ALICE, bob_hex), 'verified',
                    'carol\'s next write keeps alice\'s trust')

            alice.command('bob@localhost', 'otr distrust')
            level(alice, 'bob@localhost', UNVERIFIED)
            tap.is_(trust(folder, 'bob@localhost', ALICE, bob_hex), '',
                    'alice takes her trust back: the file says so')
            carol.command('grace@localhost', 'otr forget ' + f4)
            said(carol, 'grace@localhost', 'Forgot the fingerprint')
            tap.is_(trust(folder, 'bob@localhost', ALICE, bob_hex), '',
                    'carol\'s later write does not undo alice\'s distrust')
            tap.ok(trust(folder, 'erin@localhost', CAROL, f2) is None,
                   'nor alice\'s writes carol\'s earlier forget')

            # the second program of alice's account forgets bob's key: the
            # first must see it before it reports a level
            alice.command('bob@localhost', 'otr trust')
            level(alice, 'bob@localhost', PRIVATE)
            mark = alice.mark()
            alice2.command('bob@localhost', 'otr forget ' + bob_hex)
            said(alice2, 'bob@localhost', 'Forgot the fingerprint')
            tap.ok(trust(folder, 'bob@localhost', ALICE, bob_hex) is None,
                   'the other program of alice\'s account forgot bob\'s key (it saw the trust '
                   'alice gave after it started)')
            alice.command('bob@localhost', 'otr status')
            status = said(alice, 'bob@localhost', 'OTR status of the conversation', since=mark)
            tap.ok('Unverified' in status.text and 'Private' not in status.text,
                   'alice\'s status reports the forget made by the other program: Unverified',
                   status.text)
            tap.ok(alice.find(('level', '^bob@localhost', '^%s$' % UNVERIFIED), since=mark),
                   'and her level went down to Unverified')
            alice.command('bob@localhost', 'otr distrust')
            tap.ok(trust(folder, 'bob@localhost', ALICE, bob_hex) is None,
                   'alice\'s next write (her session still uses the key) does not bring the '
                   'forgotten fingerprint back')
            keys_now = libotr_view(folder)[0]
            tap.ok(keys_now == keys, 'the keys are unchanged after all these writes')
            for c in clients:
                c.quit()
            tap.ok(not [n for n in os.listdir(folder) if '.tmp-' in n],
                   'no temporary file is left in the folder')
        finally:
            for c in clients:
                c.kill()


tap = Tap()
if not Prosody.available():
    tap.skip_all('prosody not installed')
if not os.access(TOOL, os.X_OK):
    tap.bail_out('no storetool at %s (set POTR_BUILDDIR)' % TOOL)
tap.run('two programs on one profile', test_profile, timeout=240)
tap.done()
