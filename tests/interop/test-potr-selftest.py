#!/usr/bin/python3
# purple-otr interop tests: prove that the independent potr peer works, by
# running two of them against each other through a private prosody.
# TAP output. Every wait has a timeout; every process is stopped at the end.

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# the one private-prosody starter of the tree: tests/e2e/harness.py
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'e2e'))

from potr_driver import PotrPeer, SYSTEM_PYTHON3  # noqa: E402
from harness import Prosody  # noqa: E402

HEX40 = re.compile(r'^[0-9a-f]{40}$')
A, B = 'alice@localhost', 'bob@localhost'
TIMEOUT = float(os.environ.get('POTR_TEST_TIMEOUT', '15'))


class Tap(object):
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print('%s %d - %s' % ('ok' if cond else 'not ok', self.n, name))
        if not cond and diag:
            self.diag(diag)
        sys.stdout.flush()
        return cond

    def diag(self, text):
        for line in str(text).splitlines():
            print('# ' + line)
        sys.stdout.flush()


def missing_prerequisite():
    if not Prosody.available():
        return 'prosody not installed'
    try:
        subprocess.run([SYSTEM_PYTHON3, '-c',
                        'import potr, slixmpp, Cryptodome'],
                       check=True, timeout=30, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return '%s lacks python3-potr/python3-slixmpp' % SYSTEM_PYTHON3
    return None


def main():
    # make check interrupted: SIGTERM/SIGHUP unwind through the cleanup
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    why = missing_prerequisite()
    if why:
        print('1..0 # SKIP ' + why)
        return 0
    tap = Tap()
    t0 = time.monotonic()
    base = os.environ.get('POTR_BUILDDIR') or None
    if base:
        base = os.path.join(base, 'tests', 'interop')
        os.makedirs(base, exist_ok=True)
    work = tempfile.mkdtemp(prefix='potr-selftest-', dir=base)
    server = None
    peers = []

    def peer(name, policy='opportunistic'):
        p = PotrPeer('%s@localhost/potr' % name, 'pw-' + name, server.port,
                     os.path.join(work, name + '.key'), policy=policy,
                     log_path=os.path.join(work, name + '.log'))
        peers.append(p)
        return p.start()

    def step(name, func):
        """Run one check; an exception (e.g. a timeout) is a failure."""
        try:
            res = func()
        except Exception:
            return tap.ok(False, name, traceback.format_exc())
        if isinstance(res, tuple):
            return tap.ok(res[0], name, res[1])
        return tap.ok(res is not False, name)

    try:
        server = Prosody()
        server.register('alice', 'pw-alice')
        server.register('bob', 'pw-bob')
        alice, bob = peer('alice'), peer('bob')
        fp = {}

        def connect():
            fp[A] = alice.expect('own-fingerprint', timeout=TIMEOUT)[0]
            fp[B] = bob.expect('own-fingerprint', timeout=TIMEOUT)[0]
            ra = alice.expect('ready', timeout=TIMEOUT)[0]
            rb = bob.expect('ready', timeout=TIMEOUT)[0]
            return (HEX40.match(fp[A]) and HEX40.match(fp[B])
                    and fp[A] != fp[B] and ra == A + '/potr'
                    and rb == B + '/potr'), (fp, ra, rb)
        if not step('both peers connect and report their fingerprints',
                    connect):
            raise RuntimeError('peers did not start')

        def ake():
            alice.start_otr(B)
            alice.expect('state', B, 'encrypted', timeout=TIMEOUT)
            bob.expect('state', A, 'encrypted', timeout=TIMEOUT)
            pa = alice.expect('peer-fingerprint', B, timeout=1)[1]
            pb = bob.expect('peer-fingerprint', A, timeout=1)[1]
            return pa == fp[B] and pb == fp[A], (pa, pb, fp)
        step('query message + AKE: both sides encrypted, fingerprints match',
             ake)

        msg_ab = 'Hello Bob \u00e9\u20ac\U0001f600\ttab\nline2 <b>x</b> &amp;'
        msg_ba = 'Hi Alice, secret reply'

        def a_to_b():
            alice.send(B, msg_ab)
            got = bob.expect('recv', A, timeout=TIMEOUT)
            return got == [A, '1', msg_ab], got
        step('alice -> bob decrypted, exact text (tabs/newlines/UTF-8)',
             a_to_b)

        def b_to_a():
            bob.send(A, msg_ba)
            got = alice.expect('recv', B, timeout=TIMEOUT)
            return got == [B, '1', msg_ba], got
        step('bob -> alice decrypted', b_to_a)

        def wire():
            bad = []
            for who, p in (('alice', alice), ('bob', bob)):
                for ev in p.seen('raw') + p.seen('sent'):
                    body = ev[2]
                    if not body.startswith('?OTR') or 'secret reply' in body \
                            or 'Hello Bob' in body:
                        bad.append((who, ev[0], body[:60]))
            n = len(alice.seen('raw')) + len(bob.seen('raw'))
            return not bad and n >= 6, (n, bad)
        step('every body on the wire is OTR (?OTR...), no plaintext', wire)

        def smp_success():
            alice.smp_ask(B, 'shared secret')
            bob.expect('smp', A, 'ask-secret', timeout=TIMEOUT)
            bob.smp_respond(A, 'shared secret')
            alice.expect('smp', B, 'in-progress', timeout=TIMEOUT)
            alice.expect('smp', B, 'success', timeout=TIMEOUT)
            bob.expect('smp', A, 'success', timeout=TIMEOUT)
            ta = alice.expect('trust', B, timeout=1)
            tb = bob.expect('trust', A, timeout=1)
            return ta == [B, fp[B], 'smp'] and tb == [A, fp[A], 'smp'], \
                (ta, tb)
        step('SMP without question, same secret: success on both sides',
             smp_success)

        def smp_failure():
            question = 'Where did we meet?\t(one word)'
            bob.smp_ask(A, 'Paris', question)
            got = alice.expect('smp', B, 'ask-answer', timeout=TIMEOUT)
            if got != [B, 'ask-answer', question]:
                return False, got
            alice.smp_respond(B, 'London')
            alice.expect('smp', B, 'failure', timeout=TIMEOUT)
            bob.expect('smp', A, 'failure', timeout=TIMEOUT)
            return True
        step('SMP with question, different secret: failure on both sides',
             smp_failure)

        def no_smp_abort():
            # the failure above must not have produced an abort on either side
            alice.send(B, 'still private?')
            got = bob.expect('recv', A, timeout=TIMEOUT)
            aborts = alice.seen('smp') + bob.seen('smp')
            aborts = [e for e in aborts if e[2] == 'abort']
            return got == [A, '1', 'still private?'] and not aborts, \
                (got, aborts)
        step('session still private after SMP failure, no spurious abort',
             no_smp_abort)

        def smp_abort():
            alice.smp_ask(B, 'x')
            bob.expect('smp', A, 'ask-secret', timeout=TIMEOUT)
            bob.smp_abort(A)
            alice.expect('smp', B, 'abort', timeout=TIMEOUT)
            return True
        step('SMP abort reaches the asker', smp_abort)

        def end():
            alice.end_otr(B)
            alice.expect('state', B, 'plaintext', timeout=TIMEOUT)
            bob.expect('state', A, 'finished', timeout=TIMEOUT)
            bob.send(A, 'must not leak')
            err = bob.expect('error', timeout=TIMEOUT)[0]
            leaked = [e for e in alice.seen('raw') if 'must not leak' in e[2]]
            return 'not sent' in err and not leaked, (err, leaked)
        step('end: finished on the other side, which refuses to send', end)

        def restart_always():
            bob.stop(TIMEOUT)
            bob2 = peer('bob', policy='always')
            fp2 = bob2.expect('own-fingerprint', timeout=TIMEOUT)[0]
            bob2.expect('ready', timeout=TIMEOUT)
            if fp2 != fp[B]:
                return False, ('key not reused', fp2, fp[B])
            # policy always: the message waits for the AKE, then goes out
            # encrypted; not one byte of it in clear
            bob2.send(A, 'queued until private')
            bob2.send(A, 'queued too')
            bob2.expect('state', A, 'encrypted', timeout=TIMEOUT)
            alice.expect('state', B, 'encrypted', timeout=TIMEOUT)
            got = [alice.expect('recv', B, timeout=TIMEOUT),
                   alice.expect('recv', B, timeout=TIMEOUT)]
            leaked = [e for e in alice.seen('raw') if 'queued' in e[2]]
            return got == [[B, '1', 'queued until private'],
                           [B, '1', 'queued too']] and not leaked, \
                (got, leaked)
        step('restart reuses the key file; policy always queues until '
             'private', restart_always)

        def whitespace_tag():
            # alice (opportunistic) ends, then sends plaintext: it carries
            # the whitespace tag and bob (always) starts the AKE from it
            bob2 = peers[-1]
            alice.end_otr(B)
            bob2.expect('state', A, 'finished', timeout=TIMEOUT)
            bob2.end_otr(A)
            bob2.expect('state', A, 'plaintext', timeout=TIMEOUT)
            alice.send(B, 'tagged hello')
            got = bob2.expect('recv', A, timeout=TIMEOUT)
            raw = [e for e in bob2.seen('raw') if e[2].startswith(
                'tagged hello \t  \t\t\t\t \t \t \t  ')]
            alice.expect('state', B, 'encrypted', timeout=TIMEOUT)
            bob2.expect('state', A, 'encrypted', timeout=TIMEOUT)
            return got == [A, '0', 'tagged hello'] and len(raw) == 1, \
                (got, raw)
        step('whitespace-tagged plaintext is stripped and starts the AKE',
             whitespace_tag)

        def simultaneous():
            # both ask at once: two D-H commits cross, the tie-break must
            # still give exactly one working session
            bob2 = peers[-1]
            alice.end_otr(B)
            alice.expect('state', B, 'plaintext', timeout=TIMEOUT)
            bob2.expect('state', A, 'finished', timeout=TIMEOUT)
            bob2.end_otr(A)
            bob2.expect('state', A, 'plaintext', timeout=TIMEOUT)
            alice.start_otr(B)
            bob2.start_otr(A)
            alice.expect('state', B, 'encrypted', timeout=TIMEOUT)
            bob2.expect('state', A, 'encrypted', timeout=TIMEOUT)
            alice.send(B, 'after crossing')
            got = bob2.expect('recv', A, timeout=TIMEOUT)
            bob2.send(A, 'crossed back')
            got2 = alice.expect('recv', B, timeout=TIMEOUT)
            return got == [A, '1', 'after crossing'] and \
                got2 == [B, '1', 'crossed back'], (got, got2)
        step('both start at once: crossing D-H commits still converge',
             simultaneous)

        def garbage():
            alice.send_raw(B, '?OTR:AAIDgarbage!!!.')
            err = peers[-1].expect('error', timeout=TIMEOUT)[0]
            alice.send(B, 'after garbage')
            got = peers[-1].expect('recv', A, timeout=TIMEOUT)
            return got == [A, '1', 'after garbage'] and peers[-1].alive(), \
                (err, got)
        step('malformed OTR data: an error line, the peer survives', garbage)

        def clean_exit():
            rcs = [(p.name, p.stop(TIMEOUT)) for p in peers]
            return all(rc == 0 for _, rc in rcs), rcs
        step('peers quit cleanly (exit status 0)', clean_exit)

    except Exception:
        tap.ok(False, 'test aborted', traceback.format_exc())
    finally:
        for p in peers:
            try:
                p.stop(5)
            except Exception:
                p.kill()
        if server is not None:
            server.stop()

    print('1..%d' % tap.n)
    tap.diag('run time %.2fs' % (time.monotonic() - t0))
    if tap.failed:
        tap.diag('logs kept in ' + work)
    else:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
