# purple-otr - GPL-2.0-or-later (see COPYING)
# Pidgin end to end: real Pidgin under Xvfb, signed on to a private prosody,
# loads gtk-purple-otr (and the core with it); the OTR peer is a headless
# libpurple client with the core plugin. Everything the user does here goes
# through the real widgets, found in Pidgin's widget tree by the test probe:
# the button's label, its menu (clicked open, item picked), the
# authentication dialog (method chosen, secret typed, button clicked).
# The button must follow Not private -> Unverified -> Private -> Finished.

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pidgin_session  # noqa: E402
from pidgin_session import Pidgin, Xvfb  # noqa: E402
from harness import Client, Prosody, Tap  # noqa: E402

ALICE = 'alice@localhost'
BOB = 'bob@localhost'
SECRET = 'purple gazebo 42'
QUESTION = 'Where did we first meet?'
ANSWER = 'Lisbon'
KEYGEN_TIMEOUT = 60      # first key of each side, on a slow machine

START = 'Start private conversation'
REFRESH = 'Refresh private conversation'
END = 'End private conversation'
AUTH = 'Authenticate buddy\u2026'
HELP = 'What do the levels mean?'


def items(menu):
    """{label: sensitive} from the probe's "label|sensitive|active" list."""
    out = {}
    for entry in menu:
        label, sensitive, _ = entry.rsplit('|', 2)
        out[label] = sensitive == '1'
    return out


def wait_level(pidgin, level, timeout=pidgin_session.TIMEOUT):
    return pidgin.wait_until('the button to show %r' % level,
                             lambda a: a[0] == 'visible' and a[1] == level,
                             'button', BOB, timeout=timeout)


def wait_widget(pidgin, window, widget, pred, what, timeout=pidgin_session.TIMEOUT):
    return pidgin.wait_until(what, lambda a: pred(a), 'get', window, widget,
                             timeout=timeout)


def check_not_private(tap, pidgin):
    state = wait_level(pidgin, 'Not private')
    tap.ok('#b51c28' in state[2], 'the label is coloured (red)', repr(state))
    tap.ok(state[3] == 'tip', 'the button explains itself in a tooltip')
    menu = items(pidgin.probe('menu', BOB))
    tap.is_(list(menu), [START, END, AUTH, HELP],
            'clicking the button opens the OTR menu')
    tap.ok(menu[START] and not menu[END] and not menu[AUTH] and menu[HELP],
           'only "start" and the help can be used while not private',
           repr(menu))
    tap.is_(items(pidgin.probe('menubar', BOB)), menu,
            'the window\'s menubar has the same OTR menu')
    pidgin.probe('pick', BOB, HELP)
    help_title = wait_widget(pidgin, 'potr-levels-dialog', 'potr-levels-dialog',
                             lambda a: a[0] == 'visible', 'the levels window')
    tap.ok(help_title[2] == 'What the OTR levels mean',
           '"What do the levels mean?" opens the explanation', repr(help_title))
    pidgin.probe('close', 'potr-levels-dialog')


def start_private(tap, pidgin, bob):
    since = bob.mark()
    pidgin.probe('pick', BOB, START)
    keygen = wait_widget(pidgin, 'potr-keygen-dialog', 'potr-keygen-dialog',
                         lambda a: a[0] == 'visible',
                         'the key generation window')
    tap.ok(keygen, 'Pidgin shows that its key is being generated')
    ready = wait_widget(pidgin, 'potr-keygen-dialog', 'potr-keygen-label',
                        lambda a: 'Its fingerprint' in a[2] or 'could not' in a[2],
                        'the key to be ready',
                        timeout=KEYGEN_TIMEOUT)
    tap.ok('Its fingerprint:' in ready[2],
           'and then that it is ready, with its fingerprint', repr(ready))
    pidgin.probe('close', 'potr-keygen-dialog')
    state = wait_level(pidgin, 'Unverified', timeout=KEYGEN_TIMEOUT)
    tap.ok('#a84300' in state[2], 'Start -> the button shows "Unverified"',
           repr(state))
    bob.wait_for(('level', '^alice@localhost', '^1$'), since=since,
                 timeout=KEYGEN_TIMEOUT)
    menu = items(pidgin.probe('menu', BOB))
    tap.ok(REFRESH in menu and menu[END] and menu[AUTH],
           'the menu now offers refresh, end and authenticate', repr(menu))


def authenticate(tap, pidgin, bob):
    pidgin.probe('pick', BOB, AUTH)
    dialog = 'potr-auth-dialog'
    wait_widget(pidgin, dialog, dialog, lambda a: a[0] == 'visible',
                'the authentication dialog')
    tap.ok(True, '"Authenticate buddy" opens the authentication dialog')
    for name in ('question', 'secret', 'manual'):
        got = pidgin.probe('get', dialog, 'potr-auth-method-' + name)
        tap.ok(got[0] == 'visible', 'method offered: %s' % name, repr(got))
    pidgin.probe('set', dialog, 'potr-auth-method-secret', '1')
    pidgin.probe('set', dialog, 'potr-auth-secret', SECRET)
    since = bob.mark()
    pidgin.probe('click', dialog, 'potr-auth-ok')
    status = pidgin.probe('get', dialog, 'potr-auth-status')
    tap.ok(status[0] == 'visible' and 'Waiting for' in status[2],
           'the dialog waits for the buddy', repr(status))
    bob.wait_for(('write', '^alice@localhost', None, None, 'shared secret'),
                 since=since)
    bob.command(ALICE, 'otr smp respond ' + SECRET)
    outcome = wait_widget(pidgin, dialog, 'potr-auth-outcome',
                          lambda a: a[0] == 'visible' and a[2],
                          'the outcome of the authentication')
    tap.ok('successful' in outcome[2], 'the outcome is clear: successful',
           repr(outcome))
    bar = pidgin.probe('get', dialog, 'potr-auth-progress')
    tap.is_(bar[2], '1.00', 'the progress bar is full')
    state = wait_level(pidgin, 'Private')
    tap.ok('#1c7a48' in state[2], 'the button shows "Private" (green)',
           repr(state))
    pidgin.probe('click', dialog, 'potr-auth-cancel')   # "Close"


def answer_buddy(tap, pidgin, bob):
    """Bob asks a question: Pidgin shows it, the user answers, and is
    invited to authenticate Bob in turn."""
    dialog = 'potr-auth-dialog'
    bob.command(ALICE, 'otr smp ask "%s" %s' % (QUESTION, ANSWER))
    asked = wait_widget(pidgin, dialog, 'potr-auth-asked',
                        lambda a: a[0] == 'visible', 'the responder dialog')
    tap.is_(asked[2], QUESTION, 'the responder dialog shows the question')
    since = bob.mark()
    pidgin.probe('set', dialog, 'potr-auth-response', ANSWER)
    pidgin.probe('click', dialog, 'potr-auth-ok')
    outcome = wait_widget(pidgin, dialog, 'potr-auth-outcome',
                          lambda a: a[0] == 'visible' and a[2],
                          'the outcome of answering')
    tap.ok('has authenticated you' in outcome[2],
           'answering: Bob has authenticated us', repr(outcome))
    back = pidgin.probe('get', dialog, 'potr-auth-ok')
    tap.ok(back[0] == 'visible' and back[1] == 'sensitive'
           and 'Authenticate buddy' in back[2],
           'the user is invited to authenticate Bob in turn', repr(back))
    bob.wait_for(('write', '^alice@localhost', None, None, 'succeeded'),
                 since=since)
    pidgin.probe('click', dialog, 'potr-auth-ok')
    radio = pidgin.probe('get', dialog, 'potr-auth-method-question')
    tap.ok(radio[2] == '1', 'which opens the question page', repr(radio))
    pidgin.probe('click', dialog, 'potr-auth-cancel')


def finish(tap, pidgin, bob):
    bob.command(ALICE, 'otr end')
    state = wait_level(pidgin, 'Finished')
    tap.ok(state, 'Bob ends: the button shows "Finished"')
    menu = items(pidgin.probe('menu', BOB))
    tap.ok(menu.get(END) and not menu.get(AUTH),
           'the menu offers to end, not to authenticate', repr(menu))
    pidgin.probe('pick', BOB, END)
    wait_level(pidgin, 'Not private')
    tap.ok(True, 'ending from the menu: back to "Not private"')


def test_levels(tap):
    display = Xvfb()
    try:
        with Prosody(debug_log=False) as server:
            alice_jid = server.register('alice', 'alice-pw') + '/pidgin'
            bob_jid = server.register('bob', 'bob-pw') + '/peer'
            pidgin_session.befriend(server, 'alice', 'bob')
            bob = Client('bob', bob_jid, 'bob-pw', server,
                         plugins=['core-purple-otr'])
            pidgin = Pidgin(display.display, alice_jid, 'alice-pw',
                            server.port, buddies=[BOB])
            try:
                bob.login()
                pidgin.start()
                loaded = pidgin.probe('plugins')
                tap.ok('gtk-purple-otr' in loaded
                       and 'core-purple-otr' in loaded,
                       'Pidgin loads gtk-purple-otr, and the core with it',
                       repr(loaded))
                pidgin.wait_until('the account to sign on',
                                  lambda a: a == ['1'], 'online')
                pidgin.probe('open', BOB)
                check_not_private(tap, pidgin)
                start_private(tap, pidgin, bob)
                authenticate(tap, pidgin, bob)
                answer_buddy(tap, pidgin, bob)
                finish(tap, pidgin, bob)
                tap.is_(pidgin.quit(), 0, 'Pidgin quits cleanly')
                tap.ok('CRITICAL' not in pidgin.log_text(),
                       'no GLib criticals in Pidgin\'s log')
            finally:
                pidgin.kill()
                bob.quit()
                bob.kill()
    finally:
        display.kill()


def main():
    tap = Tap()
    why = pidgin_session.missing()
    if why:
        tap.skip_all(why)
    started = time.monotonic()
    tap.run('Pidgin: button and menu follow the OTR levels', test_levels,
            timeout=100)
    tap.diag('%.1fs' % (time.monotonic() - started))
    tap.done()


if __name__ == '__main__':
    main()
