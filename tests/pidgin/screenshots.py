# purple-otr - GPL-2.0-or-later (see COPYING)
# Screenshots for the README, taken from real Pidgin under Xvfb (the same
# setup as test-pidgin.py): a private conversation with its OTR menu open,
# the authentication dialog, and the plugin's preferences.
#
#   make screenshots            (from the build dir), or
#   POTR_BUILDDIR=... /usr/bin/python3 tests/pidgin/screenshots.py DOCS_DIR

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pidgin_session  # noqa: E402
from pidgin_session import Pidgin, Xvfb  # noqa: E402
from harness import Client, Prosody  # noqa: E402

ALICE = 'alice@localhost'
BOB = 'bob@localhost'
SECRET = 'the blue door'


def wait_level(pidgin, level):
    pidgin.wait_until(level, lambda a: a[0] == 'visible' and a[1] == level,
                      'button', BOB, timeout=60)


def wait_window(pidgin, name):
    pidgin.wait_until(name, lambda a: a[0] == 'visible', 'get', name, name)


def converse(pidgin, bob):
    """Go private, authenticate with a shared secret, exchange a few lines."""
    pidgin.probe('pick', BOB, 'Start private conversation')
    wait_level(pidgin, 'Unverified')
    pidgin.wait_until('the key window', lambda a: 'Its fingerprint' in a[2],
                      'get', 'potr-keygen-dialog', 'potr-keygen-label')
    pidgin.probe('close', 'potr-keygen-dialog')
    bob.send(ALICE, 'Hi Alice! Are we private now?')
    pidgin.probe('send', BOB, 'Encrypted, yes. Let me check it is really you.')
    pidgin.probe('pick', BOB, 'Verify buddy\u2026')
    dialog = 'potr-auth-dialog'
    wait_window(pidgin, dialog)
    pidgin.probe('set', dialog, 'potr-auth-method-secret', '1')
    pidgin.probe('set', dialog, 'potr-auth-secret', SECRET)
    since = bob.mark()
    pidgin.probe('click', dialog, 'potr-auth-ok')
    bob.wait_for(('write', '^alice@localhost', None, None, 'shared secret'),
                 since=since)
    bob.command(ALICE, 'otr smp respond ' + SECRET)
    wait_level(pidgin, 'Private')
    pidgin.probe('click', dialog, 'potr-auth-cancel')
    last = 'Verified. Nobody else can read this, not even the server.'
    bob.send(ALICE, last)
    pidgin.wait_until('bob\'s line', lambda a: any(last in m for m in a),
                      'history', BOB)


def shoot_conversation(pidgin, out):
    pidgin.probe('scroll-end', BOB)
    pidgin.probe('menu-open', BOB)
    pidgin.probe('shot', out, 'conv:' + BOB, 'menu:' + BOB)
    pidgin.probe('menu-close', BOB)


def shoot_auth(pidgin, out):
    dialog = 'potr-auth-dialog'
    pidgin.probe('pick', BOB, 'Verify buddy\u2026')
    wait_window(pidgin, dialog)
    pidgin.probe('set', dialog, 'potr-auth-method-question', '1')
    pidgin.probe('set', dialog, 'potr-auth-question', 'Where did we first meet?')
    pidgin.probe('set', dialog, 'potr-auth-answer', 'Lisbon')
    pidgin.probe('move', dialog, '40', '40')
    pidgin.probe('shot', out, dialog)
    pidgin.probe('close', dialog)


def shoot_prefs(pidgin, out, fingerprints_out):
    pidgin.probe('prefs')
    prefs = 'potr-prefs'
    wait_window(pidgin, prefs)
    pidgin.probe('move', prefs, '60', '60')
    pidgin.probe('shot', out, prefs)
    pidgin.probe('set', prefs, prefs, '2')
    pidgin.probe('set', prefs, 'potr-fingerprints', '0')
    pidgin.probe('shot', fingerprints_out, prefs)


def main():
    docs = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else 'docs')
    why = pidgin_session.missing()
    if why:
        sys.exit('screenshots: %s' % why)
    os.makedirs(docs, exist_ok=True)
    display = Xvfb(size='1024x768x24')
    try:
        with Prosody(debug_log=False) as server:
            alice_jid = server.register('alice', 'alice-pw') + '/pidgin'
            bob_jid = server.register('bob', 'bob-pw') + '/laptop'
            server.befriend('alice', 'bob')
            bob = Client('bob', bob_jid, 'bob-pw', server,
                         plugins=['core-purple-otr'])
            pidgin = Pidgin(display.display, alice_jid, 'alice-pw',
                            server.port, buddies=[(BOB, 'Bob')],
                            alias='Alice')
            try:
                bob.login()
                pidgin.start()
                pidgin.wait_until('sign-on', lambda a: a == ['1'], 'online')
                pidgin.probe('open', BOB)
                pidgin.probe('move', 'conv:' + BOB, '20', '20', '640', '470')
                converse(pidgin, bob)
                shoot_conversation(pidgin, os.path.join(docs, 'pidgin-conversation.png'))
                shoot_auth(pidgin, os.path.join(docs, 'pidgin-auth.png'))
                shoot_prefs(pidgin, os.path.join(docs, 'pidgin-prefs.png'),
                            os.path.join(docs, 'pidgin-fingerprints.png'))
                pidgin.quit()
            finally:
                pidgin.kill()
                bob.quit()
                bob.kill()
    finally:
        display.kill()
    for name in ('conversation', 'auth', 'prefs', 'fingerprints'):
        print(os.path.join(docs, 'pidgin-%s.png' % name))


if __name__ == '__main__':
    main()
