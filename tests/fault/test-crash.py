# purple-otr - GPL-2.0-or-later (see COPYING)
# Crash safety of the store: a program saving the fingerprint, instance-tag
# and key files in a loop (tests/fault/storetool, the store's own code) is
# killed with SIGKILL at random moments, hundreds of times. After each kill
# libotr's readers and the store's read complete content (the last or the
# new), in agreement, every file is 0600, and after the start-up clean-up no
# temporary file is left.

import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e'))
import harness  # noqa: E402
from harness import Tap  # noqa: E402

TOOL = os.path.join(harness._default_builddir(), 'tests', 'fault', 'storetool')
# a sanitized build starts each program in about a second: fewer kills there
# (that run looks for memory errors; the full count runs in the plain build)
KILLS = int(os.environ.get('POTR_CRASH_KILLS', '30' if os.environ.get('POTR_ASAN') else '300'))
SEED = int(os.environ.get('POTR_CRASH_SEED', '20261203'))
KEEP_HEX = '00112233445566778899aabbccddeeff00112233'


def tool(*args, **kw):
    return subprocess.run([TOOL] + list(args), capture_output=True, text=True,
                          timeout=kw.get('timeout', 60))


def entries(stdout, kind):
    return sorted(l for l in stdout.splitlines() if l.startswith(kind + '\t'))


def counter(stdout, name):
    for l in stdout.splitlines():
        if l.startswith(name + ' '):
            return int(l.split()[1])
    return -1


def make_keys(work):
    """Two complete key files: alice's key (A), alice's and bob's (B)."""
    a = os.path.join(work, 'a')
    b = os.path.join(work, 'b')
    os.makedirs(a, mode=0o700)
    r = tool('keygen', a, 'alice@x')
    assert r.returncode == 0, r.stderr
    shutil.copytree(a, b)
    r = tool('keygen', b, 'bob@x')
    assert r.returncode == 0, r.stderr
    keys = []
    for d in (a, b):
        keys.append(entries(tool('show-libotr', d).stdout, 'key'))
    return (os.path.join(a, 'otr.private_key'), os.path.join(b, 'otr.private_key'), keys)


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)


def kill_at_random(profile, keys_a, keys_b, rand):
    """Start the saving loop, kill it at a random moment of its work."""
    p = subprocess.Popen([TOOL, 'loop', profile, keys_a, keys_b], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 20)
        assert ready and p.stdout.readline().strip() == b'ready', 'storetool loop did not start'
        # the random moment of the crash (what is tested is any moment)
        time.sleep(rand.uniform(0, 0.03))
    finally:
        p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()
    return p.returncode


def problems_after_kill(r, keys):
    found = []
    if r.returncode != 0:
        found.append('check failed: ' + r.stdout.strip().splitlines()[0] if r.stdout.strip()
                     else 'check failed: ' + r.stderr)
    if entries(r.stdout, 'key') not in keys:
        found.append('key file is neither the old nor the new one: %r' % entries(r.stdout, 'key'))
    fps = entries(r.stdout, 'fp')
    if 'fp\tkeep@x\tme@x\tprpl-jabber\t%s\tsmp' % KEEP_HEX not in fps:
        found.append('a fingerprint was lost: %r' % fps)
    if any(l.split('\t')[1] == 'loop@x' and l.split('\t')[5] not in ('', 'verified') for l in fps):
        found.append('a trust that was never written: %r' % fps)
    if 'tag\tkeep@x\tprpl-jabber\t1234abcd' not in entries(r.stdout, 'tag'):
        found.append('an instance tag was lost: %r' % entries(r.stdout, 'tag'))
    if counter(r.stdout, 'left') != 0:
        found.append('temporary files left after the start-up clean-up: %d'
                     % counter(r.stdout, 'left'))
    return found


def test_kills(tap):
    rand = random.Random(SEED)
    work = tempfile.mkdtemp(prefix='potr-crash-')
    try:
        keys_a, keys_b, keys = make_keys(work)
        profile = os.path.join(work, 'profile')
        os.makedirs(profile, mode=0o700)
        shutil.copy(keys_a, os.path.join(profile, 'otr.private_key'))
        write_private(os.path.join(profile, 'otr.fingerprints'),
                      'keep@x\tme@x\tprpl-jabber\t%s\tsmp\n' % KEEP_HEX)
        write_private(os.path.join(profile, 'otr.instance_tags'),
                      'keep@x\tprpl-jabber\t1234abcd\n')
        started = time.monotonic()
        problems = []
        temps = 0
        for i in range(KILLS):
            status = kill_at_random(profile, keys_a, keys_b, rand)
            if status != -signal.SIGKILL:
                problems.append('kill %d: storetool ended by itself (%s)' % (i, status))
            r = tool('check', profile)
            temps += max(counter(r.stdout, 'temps'), 0)
            problems += ['kill %d: %s' % (i, p) for p in problems_after_kill(r, keys)]
        took = time.monotonic() - started
        tap.diag('%d kills in %.1f s; %d temporary files were left by them' % (KILLS, took, temps))
        tap.ok(not problems, 'after each of %d kills during saves, libotr and the store read '
               'the old or the new complete files, 0600, and no temporary file survives the '
               'next start' % KILLS, '\n'.join(problems[:10]))
        # the kills must have hit writes, or the test above proved nothing
        tap.ok(temps > 0, 'kills landed in the middle of writes (%d temporary files left '
               'behind, all removed)' % temps)
    finally:
        shutil.rmtree(work, ignore_errors=True)


tap = Tap()
if not os.access(TOOL, os.X_OK):
    tap.bail_out('no storetool at %s (set POTR_BUILDDIR)' % TOOL)
tap.run('crash during saves', test_kills, timeout=180)
tap.done()
