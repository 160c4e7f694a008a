# purple-otr - GPL-2.0-or-later (see COPYING)
# Finch in German: real Finch in tmux (tests/finch/test-finch.py's Finch)
# under de_DE.UTF-8, the plugin's domain compiled from po/de.po. The status
# line, the window title, the OTR menu, the method chooser and the
# fingerprint verification dialog must show the texts po/de.po gives
# (tests/i18n/locales.py), and not the English ones; each screen is printed
# as TAP diagnostics (the capture of the test).
#
#   POTR_FINCH_DE_SAVE=PATH   also write the screen of the verification
#                             dialog to PATH

import importlib.util
import os
import re
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, os.path.join(HERE, '..', 'i18n'))
from harness import Client, Prosody, Tap  # noqa: E402
import locales  # noqa: E402

_spec = importlib.util.spec_from_file_location('finchtest', os.path.join(HERE, 'test-finch.py'))
finchtest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(finchtest)

LANG, LOC = 'de', 'de_DE.UTF-8'
MENU_KEY = 'alt+o'        # POTR_GNT_MENU_KEY_NAME (src/finch/gnt-conv.h)
WRAP = finchtest.WRAP


def loose(rx):
    """A regex whose spaces also match a line wrapped inside a window."""
    return rx.replace(r'\ ', WRAP)


class German(object):
    def __init__(self, lang):
        self.lang = lang

    def t(self, msgid):
        return self.lang.gettext(msgid)

    def status(self, level):
        """The status line of a conversation at LEVEL (an English level name)."""
        return (re.escape(self.t('OTR: %s') % self.t(level)) +
                re.escape(self.t('   [%s: OTR menu]') % MENU_KEY))

    def title(self, level):
        return re.escape(self.t(' | OTR: %s') % self.t(level)) + '├'


def steps(tap, bob, finch, de, save):
    bob.call('pref-bool', '/OTR/automatic', '0')
    bob.login()
    finch.start()
    finch.wait(r'Buddy')   # Finch's own title is translated too (Buddy-Liste)

    bob.send('alice@localhost', 'hallo alice')
    screen = finch.wait(de.status('Not private'))
    tap.ok('OTR: Not private' not in screen,
           'de: the status line of a new conversation is "%s"' % (
               de.t('OTR: %s') % de.t('Not private')), screen)
    finch.keys('M-n')
    screen = finch.wait(de.title('Not private'))
    tap.ok(True, 'de: the window title ends in "%s"' % (de.t(' | OTR: %s') % de.t('Not private')))

    finch.keys('M-o')
    start = de.t('Start private conversation')
    screen = finch.wait('│' + re.escape(start))
    items = ['End private conversation', 'Verify buddy...', 'Instance',
             'Policy for this buddy', 'Fingerprints', 'What do the levels mean?']
    absent = [i for i in items if de.t(i) not in screen]
    tap.ok(not absent and 'Start private conversation' not in screen
           and 'End private conversation' not in screen,
           'de: alt+o opens the OTR menu in German', 'missing: %r\n%s' % (absent, screen))
    tap.diag('the OTR menu (tmux capture-pane):\n' +
             '\n'.join(l.rstrip() for l in screen.splitlines() if l.strip()))
    finch.keys('s')
    finch.wait(de.status('Unverified'))
    screen = finch.wait(de.title('Unverified'))
    tap.ok('Unverified' not in screen,
           'de: started from the menu: "%s" in the status line and the title' %
           de.t('Unverified'), screen)
    bob.wait_for(('level', None, '^%s$' % finchtest.LEVEL_UNVERIFIED))

    finch.keys('M-o')
    finch.wait('│' + re.escape(de.t('Refresh private conversation')))
    finch.keys('a')
    screen = finch.wait(loose(de.lang.pattern('How do you want to verify %s?')))
    choices = ['(q) Question and answer', '(s) Shared secret',
               '(f) Compare fingerprints by hand']
    tap.ok(all(de.t(c) in screen for c in choices) and 'Question and answer' not in screen,
           'de: a: the method chooser in German, keys q, s, f kept', screen)
    finch.keys('f')
    screen = finch.wait(re.escape(de.t('Compare the fingerprints by hand')))
    fps = re.findall(finchtest.FP_RX, screen)
    want = [de.t('I have verified it'), de.t('It is not verified'), de.t('It is not verified now.')]
    tap.ok(len(fps) >= 2 and all(w in screen for w in want)
           and 'I have verified it' not in screen,
           'de: f: the fingerprint verification dialog in German, both fingerprints', screen)
    dialog = finchtest.window(screen, re.escape(de.t('OTR: verify buddy')))
    tap.diag('the verification dialog (tmux capture-pane):\n' + dialog)
    if save:
        with open(save, 'w', encoding='utf-8') as f:
            f.write(dialog)
    finch.keys('Enter')            # "I have verified it", in German
    finch.wait(de.status('Private'))
    screen = finch.wait(de.title('Private'))
    tap.ok(True, 'de: "%s": the conversation is "%s"' % (de.t('I have verified it'),
                                                         de.t('Private')))
    finch.keys('M-o')
    finch.wait('│' + re.escape(de.t('Refresh private conversation')))
    finch.keys('e')
    finch.wait(de.status('Not private'))
    tap.ok(True, 'de: e: ended, "%s" again' % de.t('Not private'))
    finch.keys('M-q')
    status = finch.wait_exit()
    tap.ok(status == 0, 'Finch quits cleanly (exit status %s)' % status, finch.stderr()[-2000:])


def test(tap, lang):
    with Prosody() as server:
        alice_jid = server.register('alice', 'alice-pw') + '/finch'
        bob_jid = server.register('bob', 'bob-pw') + '/e2e'
        server.befriend('alice', 'bob')
        bob = Client('bob', bob_jid, 'bob-pw', server, plugins=['core-purple-otr'])
        finch = finchtest.Finch(alice_jid, 'alice-pw', server.port, finchtest.built_plugins())
        finch.extra_env = ['%s=%s' % (k, shlex.quote(v)) for k, v in sorted(lang.vars().items())]
        try:
            steps(tap, bob, finch, German(lang), os.environ.get('POTR_FINCH_DE_SAVE'))
        finally:
            if finch.exit_status():
                tap.diag('finch stderr:\n' + finch.stderr()[-3000:])
            finch.kill()
            bob.kill()


def main():
    tap = Tap()
    core, gnt = finchtest.built_plugins()
    if finchtest.TMUX is None or finchtest.FINCH is None:
        tap.skip_all('tmux or finch is not installed')
    if not os.path.exists(gnt):
        tap.skip_all('the Finch plugin was not built (%s)' % gnt)
    if not Prosody.available():
        tap.skip_all('prosody is not installed')
    if os.environ.get('POTR_ASAN') or finchtest.sanitized(gnt):
        tap.skip_all('plugins built with --enable-asan; Finch is not')
    why = locales.missing(LANG, LOC)
    if why:
        tap.skip_all(why)
    with locales.LanguageEnv(LANG, LOC) as lang:
        tap.run('finch in German', test, 100, lang)
    tap.done()


if __name__ == '__main__':
    main()
