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
AUTH = 'Verify buddy\u2026'
HELP = 'What do the levels mean?'


def items(menu):
    """{label: sensitive} of the top level items, from the probe's
    "label|sensitive|active" list (submenu items are "parent/label|...")."""
    out = {}
    for entry in menu:
        label, sensitive, _ = entry.rsplit('|', 2)
        if '/' not in label:
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
    tap.ok(True, '"Verify buddy" opens the authentication dialog')
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
    tap.ok('has verified you' in outcome[2],
           'answering: Bob has verified us', repr(outcome))
    back = pidgin.probe('get', dialog, 'potr-auth-ok')
    tap.ok(back[0] == 'visible' and back[1] == 'sensitive'
           and 'Verify buddy' in back[2],
           'the user is invited to verify Bob in turn', repr(back))
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


def check_prefs(tap, pidgin):
    """The plugin's preferences, opened as a user does: Tools > Plugins,
    select ours, "Configure Plugin"."""
    prefs = 'potr-prefs'
    pidgin.probe('prefs')
    tabs = pidgin.probe('get', prefs, prefs)
    tap.is_(tabs[2], '0/3', 'preferences: settings, my private keys, known '
            'fingerprints')
    radio = pidgin.probe('get', prefs, 'potr-policy-opportunistic')
    tap.is_(radio[2], '1', 'the default policy is "automatically" '
            '(pidgin-otr\'s enabled + automatic)')
    pidgin.probe('set', prefs, 'potr-policy-always', '1')
    got = [pidgin.probe('pref', '/OTR/' + k)[0]
           for k in ('enabled', 'automatic', 'onlyprivate')]
    tap.is_(got, ['1', '1', '1'], '"always" is stored as pidgin-otr does')
    pidgin.probe('set', prefs, 'potr-policy-manual', '1')
    got = [pidgin.probe('pref', '/OTR/' + k)[0]
           for k in ('enabled', 'automatic', 'onlyprivate')]
    tap.is_(got, ['1', '0', '0'], '"manually" likewise')
    pidgin.probe('set', prefs, 'potr-policy-opportunistic', '1')
    pidgin.probe('set', prefs, 'potr-pref-button', '0')
    hidden = pidgin.wait_until('the button to hide',
                               lambda a: a[0] == 'hidden', 'button', BOB)
    tap.ok(hidden, '"show the OTR button" off hides it at once')
    pidgin.probe('set', prefs, 'potr-pref-button', '1')
    wait_level(pidgin, 'Not private')
    tap.ok(True, 'and on shows it again')
    pidgin.probe('set', prefs, prefs, '1')
    mine = pidgin.probe('get', prefs, 'potr-keys-fingerprint')
    tap.ok(len(mine[2].split()) == 5, '"My private keys" shows our '
           'fingerprint', repr(mine))
    copy = pidgin.probe('get', prefs, 'potr-keys-copy')
    tap.is_(copy[1], 'sensitive', 'with a Copy button')
    pidgin.probe('set', prefs, prefs, '2')
    rows = pidgin.probe('get', prefs, 'potr-fingerprints')
    tap.is_(rows[2], '1', '"Known fingerprints" lists Bob\'s key')
    pidgin.probe('set', prefs, 'potr-fingerprints', '0')
    for name in ('potr-fp-start', 'potr-fp-verify', 'potr-fp-forget'):
        got = pidgin.probe('get', prefs, name)
        tap.is_(got[1], 'sensitive', '%s can be used on it' % name)
    pidgin.probe('close', prefs)


def check_buddy_menu(tap, pidgin):
    """Per-buddy settings from the buddy list's context menu."""
    menu = pidgin.probe('blist-menu', BOB)
    wanted = ['OTR/Start or refresh private conversation',
              'OTR/End private conversation', 'OTR/Verify buddy\u2026',
              'OTR/Settings for this buddy\u2026']
    tap.ok(all(w in menu for w in wanted) and menu.count('OTR') == 1,
           'the buddy\'s menu has one OTR submenu, with the native dialogs',
           repr(menu))
    pidgin.probe('blist-pick', BOB, 'OTR', 'Settings for this buddy\u2026')
    dialog = 'potr-buddy-dialog'
    wait_widget(pidgin, dialog, dialog, lambda a: a[0] == 'visible',
                'the buddy settings dialog')
    default = pidgin.probe('get', dialog, 'potr-buddy-default')
    tap.is_(default[2], '1', 'the buddy uses the default settings')
    pidgin.probe('set', dialog, 'potr-buddy-default', '0')
    pidgin.probe('set', dialog, 'potr-policy-never', '1')
    pidgin.probe('click', dialog, 'potr-buddy-save')
    tap.is_([pidgin.probe('node', BOB, 'OTR/' + k)[0]
             for k in ('overridedefault', 'enabled')], ['1', '0'],
            '"never" for Bob is stored in his buddy list node')
    pidgin.wait_until('the button to hide', lambda a: a[0] == 'hidden',
                      'button', BOB)
    tap.ok(True, 'no OTR for Bob: no button, as pidgin-otr')
    pidgin.probe('blist-pick', BOB, 'OTR', 'Settings for this buddy\u2026')
    wait_widget(pidgin, dialog, dialog, lambda a: a[0] == 'visible',
                'the buddy settings dialog')
    pidgin.probe('set', dialog, 'potr-buddy-default', '1')
    pidgin.probe('click', dialog, 'potr-buddy-save')
    tap.is_(pidgin.probe('node', BOB, 'OTR/overridedefault')[0], '0',
            'back to the default settings')
    wait_level(pidgin, 'Not private')


def check_instances(tap, pidgin, server):
    """Bob logged in twice: the menu lets the user choose the instance."""
    bob2 = Client('bob2', 'bob@localhost/phone', 'bob-pw', server,
                  plugins=['core-purple-otr'])
    try:
        bob2.login()
        pidgin.probe('pick', BOB, START)
        # Bob's key was authenticated before: this session is "Private"
        wait_level(pidgin, 'Private', timeout=KEYGEN_TIMEOUT)
        bob2.command(ALICE, 'otr start')
        bob2.wait_for(('level', '^alice@localhost', '^1$'),
                      timeout=KEYGEN_TIMEOUT)
        menu = pidgin.wait_until(
            'the instance menu, both logins private',
            lambda a: len([i for i in a if i.startswith('Instance/Login ')
                           and 'Not private' not in i]) == 2,
            'menu', BOB)
        logins = [i for i in menu if i.startswith('Instance/Login ')]
        tap.ok(len(logins) == 2, 'two logins of Bob: an Instance submenu '
               'lists both', repr(menu))
        tap.ok(any(i.startswith('Instance/Best') and i.endswith('|1')
                   for i in menu), '"Best" is chosen by default', repr(menu))
        other = [i for i in logins if '(in use)' not in i]
        tap.ok(len(other) == 1, 'one of them is in use', repr(logins))
        label = other[0].rsplit('|', 2)[0]
        pidgin.probe('pick', BOB, label.split('/', 1)[1])
        menu = items_active(pidgin.probe('menubar', BOB))
        tap.ok(menu.get(label + ' (in use)') == '1',
               'picking the other login makes it the one in use (and the '
               'menubar shows it at once)', repr(menu))
        pidgin.probe('pick', BOB, END)
        wait_level(pidgin, 'Not private')
    finally:
        bob2.quit()
        bob2.kill()


def check_legacy(tap, pidgin):
    """pidgin-otr enabled while purple-otr runs: purple-otr turns itself
    off (the Pidgin plugin with it, cleanly) and says which one to
    disable."""
    pidgin.probe('load', pidgin_session.legacy_plugin())
    loaded = pidgin.wait_until(
        'purple-otr to turn itself off',
        lambda a: 'core-purple-otr' not in a and 'gtk-purple-otr' not in a,
        'plugins')
    tap.ok('otr' in loaded, 'pidgin-otr on: purple-otr (core and Pidgin '
           'plugin) turns itself off', repr(loaded))
    texts = pidgin.wait_until(
        'the message about pidgin-otr',
        lambda a: any('pidgin-otr' in t for t in a), 'texts')
    said = ' '.join(texts)
    tap.ok('Off-the-Record Messaging' in said and 'Disable' in said,
           'the user is told to disable "Off-the-Record Messaging" '
           '(pidgin-otr)', said)
    state = pidgin.probe('button', BOB, check=False)
    tap.ok(state is None, 'the OTR button is gone with the plugin',
           repr(state))


def check_turned_off(tap, pidgin):
    """Turning the one entry off turns OTR off: the hidden core goes too,
    and the saved list does not bring it back at the next start."""
    pidgin.probe('unload', 'gtk-purple-otr')
    loaded = pidgin.wait_until(
        'the core to follow its entry out',
        lambda a: 'core-purple-otr' not in a and 'gtk-purple-otr' not in a, 'plugins')
    tap.ok('core-purple-otr' not in loaded, 'turned off: the hidden core goes too', repr(loaded))
    saved = pidgin.probe('pref', '/pidgin/plugins/loaded')
    tap.ok('purple-otr' not in repr(saved),
           'and the saved list of plugins holds neither', repr(saved))
    pidgin.probe('load', pidgin_session.plugin_files()[1])
    loaded = pidgin.wait_until(
        'both to be back', lambda a: 'core-purple-otr' in a and 'gtk-purple-otr' in a, 'plugins')
    tap.ok(True, 'turned on again: the core comes with it')
    state = pidgin.wait_until('the button to be back',
                              lambda a: a is not None, 'button', BOB)
    tap.ok(state is not None, 'and the button is back', repr(state))


def items_active(menu):
    """{label: active} ('1', '0', or '-1' for plain items)."""
    return {e.rsplit('|', 2)[0]: e.rsplit('|', 2)[2] for e in menu}


class Setup(object):
    """Xvfb, prosody with Alice and Bob (mutual buddies), Bob's headless
    client with the core plugin, and Alice's Pidgin."""

    def __init__(self):
        self.display = Xvfb()
        self.server = Prosody(debug_log=False)
        alice_jid = self.server.register('alice', 'alice-pw') + '/pidgin'
        bob_jid = self.server.register('bob', 'bob-pw') + '/peer'
        self.server.befriend('alice', 'bob')
        self.bob = Client('bob', bob_jid, 'bob-pw', self.server,
                          plugins=['core-purple-otr'])
        self.pidgin = Pidgin(self.display.display, alice_jid, 'alice-pw',
                             self.server.port, buddies=[BOB])
        self.bob.login()
        self.pidgin.start()
        self.pidgin.wait_until('the account to sign on',
                               lambda a: a == ['1'], 'online')

    def close(self):
        self.pidgin.kill()
        self.bob.quit()
        self.bob.kill()
        self.server.stop()
        self.display.kill()


def test_levels(tap, setup):
    pidgin, bob = setup.pidgin, setup.bob
    loaded = pidgin.probe('plugins')
    tap.ok('gtk-purple-otr' in loaded and 'core-purple-otr' in loaded,
           'Pidgin loads gtk-purple-otr, and the core with it', repr(loaded))
    pidgin.probe('open', BOB)
    check_not_private(tap, pidgin)
    start_private(tap, pidgin, bob)
    authenticate(tap, pidgin, bob)
    answer_buddy(tap, pidgin, bob)
    finish(tap, pidgin, bob)


def test_quit(tap, setup):
    tap.is_(setup.pidgin.quit(), 0, 'Pidgin quits cleanly (plugins unload)')
    log = setup.pidgin.log_text()
    tap.ok('CRITICAL' not in log and 'g_log:' not in log,
           'no GLib criticals or warnings in Pidgin\'s log',
           '\n'.join(l for l in log.splitlines()
                     if 'CRITICAL' in l or 'g_log:' in l))


def main():
    tap = Tap()
    why = pidgin_session.missing()
    if why:
        tap.skip_all(why)
    try:
        setup = Setup()
    except Exception as e:  # noqa: BLE001 - reported as a bail out
        tap.bail_out('cannot start Pidgin: %s' % e)
    try:
        tap.run('button and menu follow the OTR levels', test_levels,
                60, setup)
        tap.run('preferences', check_prefs, 30, setup.pidgin)
        tap.run('per-buddy settings', check_buddy_menu, 30, setup.pidgin)
        tap.run('instances', check_instances, 60, setup.pidgin, setup.server)
        tap.run('turned off and on', check_turned_off, 30, setup.pidgin)
        if pidgin_session.legacy_plugin() is None:
            tap.skip('pidgin-otr enabled', 'pidgin-otr is not installed')
        else:
            tap.run('pidgin-otr enabled', check_legacy, 30, setup.pidgin)
        tap.run('clean exit', test_quit, 30, setup)
    finally:
        setup.close()
    tap.done()


if __name__ == '__main__':
    main()
