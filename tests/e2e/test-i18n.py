# purple-otr - GPL-2.0-or-later (see COPYING)
# The core's status lines come out translated: two headless clients over a
# private prosody, alice under de_DE.UTF-8 (the plugin's domain from
# po/de.po), bob in English. What each sees is compared with what po/de.po
# says (tests/i18n/locales.py), and the English client must not see German:
# the language is the process's own, never the peer's.

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'i18n'))
import harness  # noqa: E402
from harness import level, line, Client, Prosody, Tap  # noqa: E402
import locales  # noqa: E402

OTR = 'core-purple-otr'
UNVERIFIED, FINISHED, NOT_PRIVATE = '1', '3', '0'
LANG, LOC = 'de', 'de_DE.UTF-8'


def english(msgid):
    """A regex of the English msgid, placeholders standing for any text."""
    return re.sub(r'\\\{[a-z_]+\\\}', '.+?', re.escape(msgid))


def run(tap, server, lang):
    alice = Client('alice', server.register('alice', 'alice-pw') + '/e2e', 'alice-pw',
                   server, plugins=(OTR,), env=lang.vars())
    bob = Client('bob', server.register('bob', 'bob-pw') + '/e2e', 'bob-pw', server,
                 plugins=(OTR,), env={'LANGUAGE': 'en', 'LC_ALL': 'C.UTF-8',
                                                 'PURPLE_CLIENT_LOCALE': '1'})
    try:
        alice.login()
        bob.login()
        started = ('Unverified conversation with {buddy} started: it is encrypted, but you '
                   'have not verified that {buddy} is who they claim to be (/otr smp ask, or /otr '
                   'fingerprint).')
        alice.command('bob@localhost', 'otr start')
        level(alice, 'bob@localhost', UNVERIFIED, timeout=40)
        level(bob, 'alice@localhost', UNVERIFIED, timeout=40)
        got = line(alice, 'bob@localhost', lang.pattern(started)).text
        tap.ok(got.startswith(lang.gettext(started).split('{buddy}')[0]),
               'de: the "Unverified conversation started" line is the one of po/de.po', got)
        got = line(bob, 'alice@localhost', english(started)).text
        tap.ok(re.match(english(started), got), 'the English client gets it in English', got)

        alice.command('bob@localhost', 'otr status')
        status = line(alice, 'bob@localhost',
                      lang.pattern('OTR status of the conversation with {buddy}: {detail}')).text
        tap.ok(lang.gettext('Unverified') in status and 'Unverified' not in status,
               'de: /otr status names the level in German (%s)' % lang.gettext('Unverified'),
               status)

        alice.command('bob@localhost', 'otr help')
        got = line(alice, 'bob@localhost', re.escape(lang.gettext('OTR commands:'))).text
        tap.ok(got, 'de: /otr help is in German')

        bob.command('alice@localhost', 'otr end')
        level(alice, 'bob@localhost', FINISHED, timeout=30)
        ended = ('{buddy} has ended the private conversation. Your messages will not be sent '
                 'until you end it too (/otr end) or refresh it (/otr refresh).')
        got = line(alice, 'bob@localhost', lang.pattern(ended)).text
        tap.ok(got, 'de: the peer ended it: the "has ended" line in German', got)
        tap.ok(not any(re.search(english(ended), w.text) for w in alice.writes('bob@localhost')),
               'de: no English "has ended" line in the German client')
        tap.ok(not any(lang.gettext('Private conversation with {buddy} started.')
                       .split('{buddy}')[0] in w.text for w in bob.writes('alice@localhost')),
               'the English client has no German line')
    finally:
        harness.close_clients(alice, bob)


def main():
    tap = Tap()
    why = locales.missing(LANG, LOC)
    if why:
        tap.skip_all(why)
    if not Prosody.available():
        tap.skip_all('prosody is not installed')
    with locales.LanguageEnv(LANG, LOC) as lang:
        def test(t):
            with Prosody() as server:
                run(t, server, lang)
        tap.run('translated status lines', test, timeout=180)
    tap.done()


if __name__ == '__main__':
    main()
