# purple-otr - GPL-2.0-or-later (see COPYING)
# Pidgin in Hebrew, right to left: real Pidgin under Xvfb in he_IL.UTF-8,
# the plugin's domain compiled from po/he.po (tests/i18n/locales.py). The
# probe plugin reports how GTK laid the widgets out (tests/pidgin/probe.c,
# "geometry"): the OTR button and the authentication dialog must be
# right-to-left and mirrored (the button at the left end of the toolbar, its
# icon right of its label; the dialog's main button left of Cancel, the
# labels of the entries right of them), and their texts those of po/he.po.
#
#   POTR_PIDGIN_RTL_SAVE=PATH   also save a screenshot of the conversation
#                               and the dialog (make screenshot-rtl:
#                               docs/pidgin-rtl-auth.png)

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'i18n'))
import pidgin_session  # noqa: E402
from pidgin_session import Pidgin, Xvfb  # noqa: E402
from harness import Client, Prosody, Tap  # noqa: E402
import locales  # noqa: E402

LANG, LOC = 'he', 'he_IL.UTF-8'
ALICE = 'alice@localhost'
BOB = 'bob@localhost'
DIALOG = 'potr-auth-dialog'


def geometry(pidgin, window, widget):
    """(direction, x, width, parent x, parent width)"""
    got = pidgin.probe('geometry', window, widget)
    return [got[0]] + [int(v) for v in got[1:]]


def margins(g):
    """Space left and right of the widget inside its parent."""
    _, x, w, px, pw = g
    return x - px, (px + pw) - (x + w)


def item(lang, msgid):
    """A menu item's label as the probe reads it (no mnemonic underscore)."""
    return lang.gettext(msgid).replace('_', '', 1)


def run(tap, lang, save):
    display = Xvfb(size='1280x800x24')
    try:
        with Prosody(debug_log=False) as server:
            alice_jid = server.register('alice', 'alice-pw') + '/pidgin'
            bob_jid = server.register('bob', 'bob-pw') + '/laptop'
            server.befriend('alice', 'bob')
            bob = Client('bob', bob_jid, 'bob-pw', server, plugins=['core-purple-otr'])
            pidgin = Pidgin(display.display, alice_jid, 'alice-pw', server.port,
                            buddies=[(BOB, 'Bob')], alias='Alice')
            pidgin.extra_env = lang.vars()
            try:
                bob.login()
                pidgin.start()
                pidgin.wait_until('sign-on', lambda a: a == ['1'], 'online')
                steps(tap, lang, pidgin, bob, save)
                pidgin.quit()
            finally:
                pidgin.kill()
                bob.kill()
    finally:
        display.kill()


def steps(tap, lang, pidgin, bob, save):
    pidgin.probe('open', BOB)
    pidgin.probe('move', 'conv:' + BOB, '20', '20', '640', '470')
    not_private = lang.gettext('Not private')
    got = pidgin.wait_until('the button', lambda a: a[0] == 'visible' and a[1] == not_private,
                            'button', BOB)
    tap.ok(got[1] == not_private, 'he: the OTR button reads "%s"' % not_private, got)

    button = geometry(pidgin, 'conv:' + BOB, 'potr-button')
    left, right = margins(button)
    tap.ok(button[0] == 'rtl' and left < right,
           'he: the OTR button is right-to-left, at the left end of the toolbar '
           '(left gap %d, right gap %d)' % (left, right), button)
    label = geometry(pidgin, 'conv:' + BOB, 'potr-button-label')
    left, right = margins(label)
    tap.ok(label[0] == 'rtl' and left < right,
           'he: inside the button the icon is right of the label (label gaps %d | %d)' % (
               left, right), label)

    pidgin.probe('pick', BOB, item(lang, 'Start _private conversation'))
    unverified = lang.gettext('Unverified')
    pidgin.wait_until(unverified, lambda a: a[0] == 'visible' and a[1] == unverified,
                      'button', BOB, timeout=60)
    ready = lang.gettext('The private key for %s is ready.\nIts fingerprint: %s')
    ready = ready.split('\n')[1].split('%s')[0]
    pidgin.wait_until('the key window', lambda a: ready in a[2],
                      'get', 'potr-keygen-dialog', 'potr-keygen-label')
    pidgin.probe('close', 'potr-keygen-dialog')
    tap.ok(True, 'he: started from the menu ("%s"): the button reads "%s"' % (
        item(lang, 'Start _private conversation'), unverified))

    pidgin.probe('pick', BOB, item(lang, '_Verify buddy…'))
    pidgin.wait_until(DIALOG, lambda a: a[0] == 'visible', 'get', DIALOG, DIALOG)
    pidgin.probe('set', DIALOG, 'potr-auth-method-question', '1')
    pidgin.probe('set', DIALOG, 'potr-auth-question', 'איפה נפגשנו בפעם הראשונה?')
    pidgin.probe('set', DIALOG, 'potr-auth-answer', 'בלשבונה')
    pidgin.probe('move', DIALOG, '680', '40')
    title = pidgin.probe('get', DIALOG, DIALOG)[2]
    tap.ok(title == lang.gettext('Verify %s') % 'Bob' or
           title == lang.gettext('Verify %s') % BOB,
           'he: the dialog\'s title is "%s"' % lang.gettext('Verify %s'), title)
    ok = geometry(pidgin, DIALOG, 'potr-auth-ok')
    cancel = geometry(pidgin, DIALOG, 'potr-auth-cancel')
    tap.ok(ok[0] == 'rtl' and cancel[0] == 'rtl' and ok[1] + ok[2] <= cancel[1],
           'he: the dialog is right-to-left: "%s" left of Cancel (x %d < %d)' % (
               lang.gettext('_Verify').replace('_', ''), ok[1], cancel[1]),
           (ok, cancel))
    label = pidgin.probe('get', DIALOG, 'potr-auth-ok')[2]
    tap.ok(label == lang.gettext('_Verify'), 'he: its main button reads "%s"' % label,
           label)
    entry = geometry(pidgin, DIALOG, 'potr-auth-question')
    left, right = margins(entry)
    tap.ok(entry[0] == 'rtl' and left < right,
           'he: the question\'s label "%s" is right of its entry (entry gaps %d | %d)' % (
               lang.gettext('Q_uestion:').replace('_', ''), left, right), entry)
    if save:
        pidgin.probe('shot', save, 'conv:' + BOB, DIALOG)
        tap.ok(os.path.getsize(save) > 0, 'screenshot saved: %s' % save)
    pidgin.probe('close', DIALOG)


def main():
    tap = Tap()
    why = pidgin_session.missing() or locales.missing(LANG, LOC)
    if why:
        tap.skip_all(why)
    with locales.LanguageEnv(LANG, LOC) as lang:
        tap.run('pidgin in Hebrew, right to left', run, 150, lang,
                os.environ.get('POTR_PIDGIN_RTL_SAVE'))
    tap.done()


if __name__ == '__main__':
    main()
