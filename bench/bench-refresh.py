# purple-otr - GPL-2.0-or-later (see COPYING)
# Benchmark: what a hostile peer's refreshes cost the client. bob (a real
# headless client with purple-otr) asks alice for a new key exchange N times
# (default 1000) as fast as it can; the figure is alice's resident memory
# before and after, and how many exchanges she went through. Prints figures,
# asserts nothing. Usage (make bench runs it):
#   bench-refresh.py [N]     with POTR_BUILDDIR / POTR_PLUGIN_DIR as for the tests
# To compare with another build of the plugin, point POTR_PLUGIN_DIR at it.

import os
import re
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tests', 'e2e'))
import harness  # noqa: E402
from harness import Client, Prosody  # noqa: E402

OTR = 'core-purple-otr'
A, B = 'alice@localhost', 'bob@localhost'


def rss_kib(client):
    with open('/proc/%d/status' % client.proc.pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with Prosody(debug_log=False) as server:
        server.register('alice', 'alice-pw')
        server.register('bob', 'bob-pw')
        alice = Client('alice', A + '/bench', 'alice-pw', server, plugins=[OTR])
        bob = Client('bob', B + '/bench', 'bob-pw', server, plugins=[OTR])
        try:
            alice.login()
            bob.login()
            bob.command(A, 'otr start')
            alice.wait_for(('level', '^' + re.escape(B), '^1$'), timeout=60)
            bob.wait_for(('level', '^' + re.escape(A), '^1$'), timeout=60)
            harness.settle(bob, alice)
            before = rss_kib(alice)
            started = time.monotonic()
            mark = alice.mark()
            for first in range(0, n, 50):
                bob.send_cmds(*[('cmd', A, 'otr refresh')] * min(50, n - first))
            bob.wait_for(lambda e: len(bob.find(('ok', '^cmd$'))) >= n + 1, timeout=600)
            harness.settle(bob, alice, timeout=300)
            # exchanges alice completed because of bob
            refreshed = len(alice.find(('write', None, None, None, 'refreshed|started'), since=mark))
            after = rss_kib(alice)
            seconds = time.monotonic() - started
            print('peer-driven refreshes sent by the peer: %d (%.1f s)' % (n, seconds))
            print('key exchanges alice went through:       %d' % refreshed)
            print("alice's resident memory:                %d KiB before, %d KiB after "
                  "(%+d KiB, %.1f KiB per refresh sent)" % (before, after, after - before,
                                                           (after - before) / float(n)))
        finally:
            for c in (alice, bob):
                try:
                    c.quit(timeout=60)
                except harness.HarnessError:
                    pass
                c.kill()


if __name__ == '__main__':
    main()
