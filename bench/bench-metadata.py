# purple-otr - GPL-2.0-or-later (see COPYING)
# What the server learns besides the ciphertext, measured on the real
# stack (prosody on loopback with its wiretap, two headless libpurple
# clients with purple-otr): for 500 messages of 1..2000 characters, the
# distinct ciphertext lengths the server relays and the bytes they cost,
# with padding on and off (and, computed from the same texts, what other
# bucket schemes would cost); over a private conversation with typing,
# how many chat state notifications reach the server. Prints, asserts
# nothing (`make bench`).
#
#   /usr/bin/python3 bench/bench-metadata.py [COUNT]

import os
import random
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests', 'e2e'))
import harness  # noqa: E402
from demo import body_of, read_wiretap, wiretap_config  # noqa: E402
from harness import Client, Prosody  # noqa: E402

A, B = 'alice@localhost', 'bob@localhost'
NS_CHATSTATES = 'http://jabber.org/protocol/chatstates'


def to_bob(xml):
    m = re.search(r"""\sto=['"]([^'"]+)['"]""", xml)
    return m is not None and harness.bare_jid(m.group(1)) == B


def text_of(n, i):
    head = '%d:' % i
    return (head + 'the quick brown fox jumps over the lazy dog ' * 50)[:n] \
        if n > len(head) else 'x' * n


def relayed(alice, bob, tap_file):
    harness.settle(alice, bob)
    return read_wiretap(tap_file)


def send_round(alice, bob, tap_file, lengths):
    """alice sends one message per length; the data bodies relayed."""
    before = len(relayed(alice, bob, tap_file))
    mark = bob.mark()
    for i, n in enumerate(lengths):
        alice.send(B, text_of(n, i))
    for _ in lengths:
        bob.wait_for(('write', '^' + re.escape(A), '^2$'), since=mark, timeout=60)
    out = []
    for x in relayed(alice, bob, tap_file)[before:]:
        body = body_of(x) if to_bob(x) else None
        if body is not None and body.startswith('?OTR:AAMD'):
            out.append(body)
    return out


def scheme_table(lengths):
    """Bytes libotr would encrypt (text, its NUL, a 4-byte TLV header)
    under a few bucket schemes: distinct sizes and overhead."""
    def multiple(b):
        return lambda u: -(-u // b) * b

    def power_of_two(floor):
        def f(u):
            size = floor
            while size < u:
                size *= 2
            return size
        return f
    schemes = [('none', lambda u: u), ('multiple of 128', multiple(128)),
               ('multiple of 256 (purple-otr)', multiple(256)), ('multiple of 512', multiple(512)),
               ('power of two, at least 256', power_of_two(256))]
    used = [n + 5 for n in lengths]
    print('  %-30s %8s %10s' % ('bucket scheme (plaintext)', 'lengths', 'overhead'))
    for name, f in schemes:
        sizes = [f(u) for u in used]
        print('  %-30s %8d %9.1f%%' % (name, len(set(sizes)),
                                       100.0 * (sum(sizes) - sum(used)) / sum(used)))


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    if not Prosody.available():
        print('bench-metadata: prosody is not installed')
        return
    rng = random.Random(500)
    lengths = [rng.randint(1, 2000) for _ in range(count)]
    tmp = tempfile.mkdtemp(prefix='potr-bench-metadata-')
    tap_file = os.path.join(tmp, 'wiretap')
    with Prosody(extra_config=wiretap_config(tap_file), debug_log=False) as server:
        server.register('alice', 'alice-pw')
        server.register('bob', 'bob-pw')
        server.befriend('alice', 'bob')
        alice = Client('alice', A + '/bench', 'alice-pw', server, plugins=['core-purple-otr'])
        bob = Client('bob', B + '/bench', 'bob-pw', server, plugins=['core-purple-otr'])
        try:
            for c in (alice, bob):
                c.login()
            alice.wait_for(('buddy-signed-on', '^%s$' % re.escape(B)))
            alice.command(B, 'otr start')
            alice.wait_for(('level', '^' + re.escape(B), '^1$'), timeout=60)
            bob.wait_for(('level', '^' + re.escape(A), '^1$'), timeout=60)

            started = time.monotonic()
            padded = send_round(alice, bob, tap_file, lengths)
            alice.call('pref-bool', '/OTR/padmessages', '0')
            plain = send_round(alice, bob, tap_file, lengths)
            alice.call('pref-bool', '/OTR/padmessages', '1')
            took = time.monotonic() - started
            print('%d messages of %d..%d characters (seeded), OTR v3 over XMPP, as relayed:'
                  % (count, min(lengths), max(lengths)))
            print('  padding on:  %4d distinct ciphertext lengths, %9d bytes'
                  % (len(set(map(len, padded))), sum(map(len, padded))))
            print('  padding off: %4d distinct ciphertext lengths, %9d bytes'
                  % (len(set(map(len, plain))), sum(map(len, plain))))
            print('  overhead of padding on the wire: %.1f%% (%.0f bytes a message)'
                  % (100.0 * (sum(map(len, padded)) / sum(map(len, plain)) - 1),
                     (sum(map(len, padded)) - sum(map(len, plain))) / float(count)))
            print('  (%d messages sent and read in %.1f s)' % (2 * count, took))
            scheme_table(lengths)

            # typing in a private conversation, as Pidgin does on keypresses
            before = len(relayed(alice, bob, tap_file))
            typed = 0
            for _ in range(20):
                for state in ('1', '2', '0'):
                    alice.call('typing', B, state)
                    typed += 1
            states = [x for x in relayed(alice, bob, tap_file)[before:]
                      if to_bob(x) and NS_CHATSTATES in x]
            print('typing in a private conversation: %d notifications typed, %d reached the server'
                  % (typed, len(states)))
        finally:
            harness.close_clients(alice, bob)
    harness._rmtree(tmp)


if __name__ == '__main__':
    main()
