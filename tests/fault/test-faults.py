# purple-otr - GPL-2.0-or-later (see COPYING)
# Fault injection: what the store does when a write fails. Failing rename,
# fsync, a full disk seen at fflush and the temporary file's creation
# (tests/fault/faultfs.so, preloaded), a real full disk and a read-only
# profile (small tmpfs mounts; skipped where mounting is not permitted), and
# a real headless client: each time a clear message, the old file intact
# byte for byte, no temporary file left, and the change not lost: the next
# write that succeeds carries it.

import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e'))
import harness  # noqa: E402
from harness import Client, Tap  # noqa: E402

BUILD = harness._default_builddir()
TOOL = os.path.join(BUILD, 'tests', 'fault', 'storetool')
SHIM = os.path.join(BUILD, 'tests', 'fault', 'faultfs.so')
ASAN = bool(os.environ.get('POTR_ASAN'))
KEEP_HEX = '00112233445566778899aabbccddeeff00112233'
OTR = 'core-purple-otr'


def tool(*args, env=None):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([TOOL] + list(args), capture_output=True, text=True, timeout=60,
                          env=full)


def shim_env(op, match, err=errno.EIO, count=None):
    env = {'LD_PRELOAD': SHIM, 'POTR_FAULT': op, 'POTR_FAULT_MATCH': match,
           'POTR_FAULT_ERRNO': str(err)}
    if count is not None:
        env['POTR_FAULT_COUNT'] = str(count)
    return env


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


class Profile(object):
    """A folder with the three files, complete: a key, a fingerprint, a tag."""

    def __init__(self, root, keys_from):
        self.dir = root
        os.makedirs(root, mode=0o700, exist_ok=True)
        shutil.copy(keys_from, self.path('otr.private_key'))
        write_private(self.path('otr.fingerprints'),
                      'keep@x\tme@x\tprpl-jabber\t%s\tsmp\n' % KEEP_HEX)
        write_private(self.path('otr.instance_tags'), 'keep@x\tprpl-jabber\t1234abcd\n')
        self.before = self.snapshot()

    def path(self, name):
        return os.path.join(self.dir, name)

    def snapshot(self):
        return {n: read(self.path(n)) for n in
                ('otr.private_key', 'otr.fingerprints', 'otr.instance_tags')}

    def temps(self):
        return [n for n in os.listdir(self.dir) if '.tmp-' in n]

    def intact(self):
        now = self.snapshot()
        modes = [os.stat(self.path(n)).st_mode & 0o7777 for n in now]
        return now == self.before and not self.temps() and all(m == 0o600 for m in modes)


def check_failure(tap, name, r, profile, message):
    tap.ok(r.returncode != 0 and re.search(message, r.stderr),
           '%s: the save fails with a clear message' % name,
           'status %d, stderr: %r' % (r.returncode, r.stderr))
    tap.ok(profile.intact(), '%s: the old files are intact (same bytes, 0600), no temporary '
           'file is left' % name, 'temps: %r' % profile.temps())


def test_injected(tap, work, keys):
    if ASAN:
        tap.skip('injected faults', 'a preloaded library cannot go before the sanitizers')
        return
    cases = [
        ('rename of the fingerprints fails', ('save', 'DIR', 'fingerprints'),
         shim_env('rename', 'otr.fingerprints'),
         r'Could not replace \S*otr\.fingerprints: Input/output error'),
        ('fsync of the instance tags fails', ('save', 'DIR', 'instags'),
         shim_env('fsync', 'otr.instance_tags'),
         r'Could not write \S*otr\.instance_tags\.tmp-\w{6}: Input/output error'),
        ('the disk is full when the fingerprints are flushed', ('save', 'DIR', 'fingerprints'),
         shim_env('fflush', 'otr.fingerprints', errno.ENOSPC),
         r'Could not write \S*otr\.fingerprints\.tmp-\w{6}: No space left on device'),
        ('the key file\'s temporary file cannot be created', ('save', 'DIR', 'keys', keys[1]),
         shim_env('mkstemp', 'otr.private_key', errno.EACCES),
         r'Could not create a temporary file beside \S*otr\.private_key: Permission denied'),
        ('rename of a newly generated key fails', ('keygen', 'DIR', 'carol@x'),
         shim_env('rename', 'otr.private_key'),
         r'Could not replace \S*otr\.private_key: Input/output error'),
    ]
    for i, (name, args, env, message) in enumerate(cases):
        profile = Profile(os.path.join(work, 'case%d' % i), keys[0])
        argv = [profile.dir if a == 'DIR' else a for a in args]
        r = tool(*argv, env=env)
        check_failure(tap, name, r, profile, message)
        # the fault gone, the same save works: nothing is stuck
        r = tool(*argv)
        tap.ok(r.returncode == 0 and tool('check', profile.dir).returncode == 0,
               '%s: without the fault the same save succeeds' % name, r.stderr)


def can_mount(work):
    probe = os.path.join(work, 'probe')
    os.makedirs(probe)
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', probe],
                       capture_output=True, text=True)
    if r.returncode == 0:
        subprocess.run(['umount', probe])
        return None
    return (r.stderr.strip() or 'mount failed').splitlines()[0]


def fill(dirpath):
    """Fill the file system of DIRPATH to the last byte."""
    fd = os.open(os.path.join(dirpath, 'filler'), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b'\0' * 512)
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
    finally:
        os.close(fd)


def test_mounts(tap, work, keys):
    why = can_mount(work)
    if why is not None:
        tap.skip('a full disk and a read-only profile (tmpfs)', 'cannot mount a tmpfs: %s' % why)
        return
    mnt = os.path.join(work, 'mnt')
    os.makedirs(mnt)
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', mnt], check=True)
    try:
        profile = Profile(mnt, keys[0])
        # lock files exist, as after any earlier write
        tool('save', mnt, 'fingerprints', 'smp')
        tool('save', mnt, 'instags')
        profile.before = profile.snapshot()
        fill(mnt)
        r = tool('save', mnt, 'fingerprints')
        check_failure(tap, 'full disk, fingerprints', r, profile, r'No space left on device')
        r = tool('keygen', mnt, 'carol@x')
        check_failure(tap, 'full disk, a new key', r, profile, r'No space left on device')
        os.unlink(os.path.join(mnt, 'filler'))
        r = tool('save', mnt, 'fingerprints')
        tap.ok(r.returncode == 0 and 'fault@x' in read(profile.path('otr.fingerprints')).decode(),
               'full disk: once there is room again the save succeeds', r.stderr)

        profile.before = profile.snapshot()
        subprocess.run(['mount', '-o', 'remount,ro', mnt], check=True)
        r = tool('save', mnt, 'fingerprints', '')
        check_failure(tap, 'read-only profile, fingerprints', r, profile,
                      r'Could not write \S*otr\.fingerprints: Read-only file system')
        r = tool('save', mnt, 'instags')
        check_failure(tap, 'read-only profile, instance tags', r, profile,
                      r'Read-only file system')
        r = tool('show-store', mnt)
        tap.ok(r.returncode == 0 and 'fault@x' in r.stdout,
               'read-only profile: the files are still read', r.stderr)
    finally:
        subprocess.run(['umount', '-l', mnt])


def test_client(tap, work, keys):
    """A real client: the user reads why the list was not saved, and the
    change is written by the next save."""
    if ASAN:
        tap.skip('a client whose save fails', 'a preloaded library cannot go before the sanitizers')
        return
    if not harness.Prosody.available():
        tap.skip('a client whose save fails', 'prosody not installed')
        return
    with harness.Prosody() as server:
        run_client(tap, server)


def run_client(tap, server):
    other = '11223344556677889900aabbccddeeff11223344'
    client = Client('faulty', server.register('alice', 'pw') + '/f', 'pw', server, plugins=[OTR],
                    env=shim_env('rename', 'otr.fingerprints', count=1), start=False)
    write_private(os.path.join(client.userdir, 'otr.fingerprints'),
                  'dave@localhost\talice@localhost/f\tprpl-jabber\t%s\tverified\n'
                  'dave@localhost\talice@localhost/f\tprpl-jabber\t%s\tsmp\n' % (KEEP_HEX, other))
    before = read(os.path.join(client.userdir, 'otr.fingerprints'))
    try:
        client.start()
        client.login()
        client.command('dave@localhost', 'otr forget ' + KEEP_HEX)
        ev = client.wait_for(('notify', None, 'fingerprints could not be saved'))
        tap.ok(re.search(r'Could not replace \S*otr\.fingerprints: Input/output error', ev[2]),
               'client: the user is told that the list could not be saved, and why', repr(ev.fields))
        tap.ok(read(os.path.join(client.userdir, 'otr.fingerprints')) == before,
               'client: the file is as it was')
        client.command('dave@localhost', 'otr forget ' + other)
        now = read(os.path.join(client.userdir, 'otr.fingerprints')).decode()
        tap.ok(KEEP_HEX not in now and other not in now,
               'client: the next save writes both forgets (nothing lost)', repr(now))
        client.quit()
    finally:
        client.kill()


def main():
    tap = Tap()
    if not os.access(TOOL, os.X_OK) or not os.access(SHIM, os.R_OK):
        tap.bail_out('no storetool or faultfs.so in %s (set POTR_BUILDDIR)' % BUILD)
    work = tempfile.mkdtemp(prefix='potr-faults-')
    try:
        keydir = os.path.join(work, 'keys')
        os.makedirs(keydir, mode=0o700)
        r = tool('keygen', keydir, 'alice@x')
        assert r.returncode == 0, r.stderr
        key_a = os.path.join(work, 'keys-a')
        shutil.copy(os.path.join(keydir, 'otr.private_key'), key_a)
        r = tool('keygen', keydir, 'bob@x')
        assert r.returncode == 0, r.stderr
        keys = (key_a, os.path.join(keydir, 'otr.private_key'))
        tap.run('injected faults', test_injected, 120, work, keys)
        tap.run('full disk and read-only profile', test_mounts, 120, work, keys)
        tap.run('a client whose save fails', test_client, 60, work, keys)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tap.done()


main()
