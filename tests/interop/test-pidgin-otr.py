#!/usr/bin/python3
# purple-otr - GPL-2.0-or-later (see COPYING)
# Interoperability with pidgin-otr 4.0.2 (Debian's pidgin-otr) in real
# Pidgin under Xvfb, over OTR v3: purple-otr's padded messages are read
# exactly, their lengths on the wire (prosody's wiretap) show only the
# bucket, and pidgin-otr's answers are read back. alice is a headless
# libpurple client with purple-otr; bob is Pidgin with pidgin-otr and the
# test probe (tests/pidgin/probe.c), not purple-otr.

import os
import re
import sys
import tempfile
from xml.sax.saxutils import escape, quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, 'e2e'))
sys.path.insert(0, os.path.join(TOP, 'pidgin'))

import harness  # noqa: E402
import pidgin_session  # noqa: E402
from demo import body_of, read_wiretap, wiretap_config  # noqa: E402
from harness import Client, Prosody, Tap  # noqa: E402
from pidgin_session import Pidgin, Xvfb  # noqa: E402

ALICE = 'alice@localhost'
BOB = 'bob@localhost'
LENGTHS = (5, 100, 251, 700, 1500, 2000)   # 256-byte buckets: 4 lengths


class LegacyPidgin(Pidgin):
    """Pidgin with pidgin-otr and the probe loaded, and no purple-otr."""

    def _write_config(self, jid, password, port, buddies, alias):
        probe = [p for p in pidgin_session.plugin_files() if p.endswith('/probe.so')][0]
        loaded = []
        for path in (probe, pidgin_session.legacy_plugin()):
            link = os.path.join(self.config, 'plugins', os.path.basename(path))
            os.symlink(path, link)
            loaded.append(link)
        account = quoteattr(jid)
        files = {
            'accounts.xml': harness.accounts_xml(jid, password, port, 'gtk-gaim', alias),
            'blist.xml': pidgin_session.BLIST_XML.format(
                account=account, contacts='\n'.join(
                    pidgin_session.CONTACT_XML.format(account=account, name=escape(b), alias='')
                    for b in buddies)),
            'prefs.xml': pidgin_session.PREFS_XML.format(plugins='\n'.join(
                '    <item value=%s/>' % quoteattr(p) for p in loaded)),
        }
        for fn, text in files.items():
            path = os.path.join(self.config, fn)
            with open(path, 'w') as f:
                f.write(text)
            os.chmod(path, 0o600)


def text_of(n):
    return ('pad%d:' % n + 'z' * n)[:n]


def received(history):
    """The texts of the received lines in a probe "history" answer."""
    out = []
    for entry in history:
        who, flags, text = entry.split('|', 2)
        if int(flags) & harness.MSG_RECV:
            out.append(text)
    return out


def test_pidgin_otr(tap, tmp):
    tap_file = os.path.join(tmp, 'wiretap')
    display = Xvfb()
    server = Prosody(extra_config=wiretap_config(tap_file), debug_log=False)
    server.register('alice', 'alice-pw')
    server.register('bob', 'bob-pw')
    server.befriend('alice', 'bob')
    alice = Client('alice', ALICE + '/e2e', 'alice-pw', server, plugins=['core-purple-otr'])
    bob = LegacyPidgin(display.display, BOB + '/pidgin', 'bob-pw', server.port, buddies=[ALICE])
    try:
        alice.login()
        bob.start()
        bob.wait_until('the account to sign on', lambda a: a == ['1'], 'online')
        alice.wait_for(('buddy-signed-on', '^%s$' % re.escape(BOB)))

        # pidgin-otr makes its key when the exchange needs it (a dialog)
        alice.command(BOB, 'otr start')
        alice.wait_for(('level', '^' + re.escape(BOB), '^1$'), timeout=90)
        tap.ok(True, 'purple-otr and pidgin-otr 4.0.2 reach a private conversation')

        before = len(read_wiretap(tap_file))
        texts = [text_of(n) for n in LENGTHS]
        for text in texts:
            alice.send(BOB, text)
        got = bob.wait_until('the padded messages',
                            lambda a: len(received(a)) >= len(texts), 'history', ALICE)
        tap.is_(received(got)[:len(texts)], texts,
                'pidgin-otr (OTR v3) reads every padded message exactly')
        harness.settle(alice)
        data = [body_of(x) for x in read_wiretap(tap_file)[before:]
                if (body_of(x) or '').startswith('?OTR:AAMD')]
        sizes = [len(d) for d in data]
        tap.ok(len(sizes) == len(texts) and len(set(sizes[:3])) == 1 and len(set(sizes)) == 4,
               'v3 data messages: 5, 100 and 251 characters look the same; 4 lengths in all',
               repr(sizes))

        mark = alice.mark()
        bob.probe('send', ALICE, 'answer from pidgin-otr')
        alice.wait_for(('write', '^' + re.escape(BOB), None, None, '^answer from pidgin-otr$'),
                       since=mark)
        tap.ok(True, "and purple-otr reads pidgin-otr's answer")
    finally:
        bob.kill()
        try:
            alice.quit()
        except harness.HarnessError:
            pass
        alice.kill()
        server.stop()
        display.kill()


def main():
    tap = Tap()
    why = pidgin_session.missing()
    if why is None and pidgin_session.legacy_plugin() is None:
        why = 'pidgin-otr is not installed'
    if why:
        tap.skip_all(why)
    tmp = tempfile.mkdtemp(prefix='potr-interop-pidgin-otr-')
    tap.run('padded messages with pidgin-otr 4.0.2 in Pidgin', test_pidgin_otr, 150, tmp)
    harness._rmtree(tmp)
    tap.done()


if __name__ == '__main__':
    main()
