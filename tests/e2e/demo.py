# purple-otr - GPL-2.0-or-later (see COPYING)
# The demo: a private XMPP server (prosody) on 127.0.0.1, two accounts in two
# headless libpurple clients with purple-otr, an OTR conversation verified
# with the Socialist Millionaires' Protocol, and, side by side, what alice
# and bob read and what the server saw and archived.
#
#   /usr/bin/python3 tests/e2e/demo.py [--plugin-dir DIR] [--build-dir DIR]

import argparse
import os
import re
import shutil
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

WIDTH = 38
A, B = 'alice@localhost', 'bob@localhost'


def parse_args():
    p = argparse.ArgumentParser(description='purple-otr demo')
    p.add_argument('--plugin-dir', help='folder with purple-otr.so (default: the build tree)')
    p.add_argument('--build-dir', help='build folder holding tests/e2e/purple-client')
    return p.parse_args()


def wiretap_config(path):
    return '''
plugin_paths = {{ "{mods}" }}
modules_enabled = {{ "roster"; "saslauth"; "disco"; "carbons"; "mam"; "ping"; "posix";
                    "potr_wiretap" }}
potr_wiretap_file = "{path}"
'''.format(mods=os.path.join(HERE, 'prosody'), path=path)


def read_wiretap(path):
    """The message stanzas the server received, in order."""
    out = []
    try:
        data = open(path, 'rb').read()
    except OSError:
        return out
    pos = 0
    while pos < len(data):
        nl = data.index(b'\n', pos)
        size = int(data[pos:nl])
        out.append(data[nl + 1:nl + 1 + size].decode('utf-8', 'replace'))
        pos = nl + 1 + size + 1
    return out


def body_of(xml):
    m = re.search(r'<body>(.*?)</body>', xml, re.S)
    if not m:
        return None
    return (m.group(1).replace('&lt;', '<').replace('&gt;', '>')
            .replace('&quot;', '"').replace('&apos;', "'").replace('&amp;', '&'))


OTR_TYPES = {'AAMC': 'key exchange 1/4', 'AAMK': 'key exchange 2/4',
             'AAMR': 'key exchange 3/4', 'AAMS': 'key exchange 4/4',
             'AAMD': 'encrypted data', 'AAIC': 'key exchange 1/4',
             'AAIK': 'key exchange 2/4', 'AAIR': 'key exchange 3/4',
             'AAIS': 'key exchange 4/4', 'AAID': 'encrypted data'}


def otr_kind(body):
    if body.startswith('?OTR:'):
        return OTR_TYPES.get(body[5:9], 'OTR data')
    if body.startswith('?OTRv'):
        return 'OTR query'
    return 'readable text'


def plain(html):
    text = re.sub(r'<br\s*/?>', '\n', html)
    text = re.sub(r'<[^>]+>', '', text)
    return (text.replace('&lt;', '<').replace('&gt;', '>').replace('&quot;', '"')
            .replace('&apos;', "'").replace('&amp;', '&'))


def columns(left, right, lw=WIDTH, rw=WIDTH):
    lines_l = textwrap.wrap(left, lw) or ['']
    lines_r = textwrap.wrap(right, rw) or ['']
    for i in range(max(len(lines_l), len(lines_r))):
        l = lines_l[i] if i < len(lines_l) else ''
        r = lines_r[i] if i < len(lines_r) else ''
        print('  %-*s | %s' % (lw, l, r))


def transcript(client, peer):
    """What the user saw in the conversation with PEER: (kind, text)."""
    import harness
    out = []
    for w in client.writes(peer):
        kind = ('>' if w.flags & harness.MSG_SEND else
                '<' if w.flags & harness.MSG_RECV else '*')
        out.append((kind, plain(w.text)))
    return out


def main():
    args = parse_args()
    if args.build_dir:
        os.environ['POTR_BUILDDIR'] = args.build_dir
    if args.plugin_dir:
        os.environ['POTR_PLUGIN_DIR'] = args.plugin_dir
    import harness
    from harness import Client, Prosody

    if not Prosody.available():
        sys.exit('prosody is not installed (run tools/install-deps)')
    tmp = tempfile.mkdtemp(prefix='potr-demo-')
    tap_file = os.path.join(tmp, 'wiretap')
    print('Starting a private XMPP server (prosody) on 127.0.0.1 ...')
    with Prosody(extra_config=wiretap_config(tap_file)) as server:
        server.register('alice', 'alice-pw')
        server.register('bob', 'bob-pw')
        print('Server on port %d; accounts %s and %s.' % (server.port, A, B))
        alice = Client('alice', A + '/laptop', 'alice-pw', server, plugins=['core-purple-otr'])
        bob = Client('bob', B + '/desktop', 'bob-pw', server, plugins=['core-purple-otr'])
        try:
            alice.login()
            bob.login()
            print('Both signed on, each with purple-otr loaded.\n')

            print('Each client makes its OTR key in the background ...')
            for client, peer in ((alice, B), (bob, A)):
                client.command(peer, 'otr genkey')
            for client in (alice, bob):
                client.wait_for(('keygen', None, '^1$'), timeout=60)
            print('alice says hello in clear; her client offers OTR with it (a whitespace tag),')
            print("bob's client answers, and the conversation becomes private by itself ...")
            alice.send(B, 'Hi Bob, are you there? (sent before OTR, in clear)')
            bob.wait_for(('write', '^' + A, None, None, 'are you there'))
            alice.wait_for(('level', '^' + B, '^1$'), timeout=60)
            bob.wait_for(('level', '^' + A, '^1$'), timeout=60)
            print('Private, but not verified yet. alice asks a question only bob can answer ...')
            alice.command(B, 'otr smp ask "Where did we first meet?" the old harbour')
            bob.wait_for(('smp', '^' + A, '^4$'))
            bob.command(A, 'otr smp respond the old harbour')
            alice.wait_for(('level', '^' + B, '^2$'))
            print('bob answered correctly: alice has verified bob. bob verifies alice back ...')
            bob.command(A, 'otr smp ask "Our cat?" Felix')
            alice.wait_for(('smp', '^' + B, '^4$'))
            alice.command(B, 'otr smp respond Felix')
            bob.wait_for(('level', '^' + A, '^2$'))
            print('Both verified: the conversation is Private.\n')

            alice.send(B, 'The launch is on <b>Tuesday</b>, keep it between us.')
            bob.wait_for(('write', '^' + A, None, None, 'launch is on'))
            bob.send(A, 'Understood. I will bring the contract.')
            alice.wait_for(('write', '^' + B, None, None, 'Understood'))
            alice.flush()
            bob.flush()

            print('=' * (2 * WIDTH + 5))
            columns('What alice read', 'What bob read')
            print('  %s-+-%s' % ('-' * WIDTH, '-' * WIDTH))
            ta, tb = transcript(alice, B), transcript(bob, A)
            for i in range(max(len(ta), len(tb))):
                l = '%s %s' % ta[i] if i < len(ta) else ''
                r = '%s %s' % tb[i] if i < len(tb) else ''
                columns(l, r)
            print('  (> sent, < received, * purple-otr status line)\n')

            print('=' * (2 * WIDTH + 5))
            print('What the server saw (the body of every message it relayed):')
            for xml in read_wiretap(tap_file):
                body = body_of(xml)
                if body is None:
                    continue
                frm = re.search(r"from='([^']*)'", xml)
                to = re.search(r"to='([^']*)'", xml)
                hints = [h for h in ('no-permanent-store', 'private', 'encryption')
                         if '<' + h in xml]
                shown = body.replace('\n', ' ').rstrip()
                if len(shown) > 34:
                    shown = shown[:31] + '...'
                sender = (frm.group(1) if frm else alice.jid).split('@')[0]
                receiver = (to.group(1) if to else '?').split('@')[0]
                print('  %-5s -> %-5s %-18s %-34s%s' % (
                    sender, receiver, otr_kind(body), shown,
                    ('  [' + ', '.join(hints) + ']') if hints else ''))
            print()
            print('=' * (2 * WIDTH + 5))
            print("What the server archived (bob's message archive, XEP-0313):")
            bodies = server.archive_bodies('bob')
            for b in bodies:
                print('  %s' % b.replace('\n', ' ').rstrip()[:70])
            secrets = ('Tuesday', 'contract', 'harbour', 'Felix')
            leaked = [s for s in secrets if any(s in b for b in bodies)
                      or any(s in (body_of(x) or '') for x in read_wiretap(tap_file))]
            print('\n  %d message(s) archived: only what was sent before OTR. The OTR messages'
                  % len(bodies))
            print('  were marked no-permanent-store, so not even their ciphertext was kept.')
            print('  Private words seen by the server: %s' % (', '.join(leaked) if leaked else 'none'))
        finally:
            harness.close_clients(alice, bob)
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if leaked else 0


if __name__ == '__main__':
    sys.exit(main())
