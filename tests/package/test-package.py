# purple-otr - GPL-2.0-or-later (see COPYING)
# The Debian packages, as a user gets them: dpkg-buildpackage builds them
# from a copy of the source tree, lintian checks them (no error, warning,
# info or pedantic tag that debian/*.lintian-overrides does not explain),
# dpkg -x unpacks them into a throw-away root, and real Pidgin and real
# Finch, run with that root laid over /usr (in-root.sh: a private mount
# namespace, nothing else on the machine sees it), find the plugins in
# their own system plugin folders and load them. Nothing from the build
# tree is offered to them: their plugin lists name the plugins by file
# name only, and only the test probe sits in Pidgin's user plugin folder.
#
# Skipped where dpkg-buildpackage, lintian or the other tools are missing,
# unless POTR_REQUIRE_PACKAGE_TEST=1 (CI), where that is a failure.
# POTR_KEEP_TMP=1 keeps the build folder, the packages and the root.

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from xml.sax.saxutils import quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, 'e2e'))
sys.path.insert(0, os.path.join(TESTS, 'pidgin'))
import harness  # noqa: E402
from harness import Client, HarnessError, Prosody, Tap  # noqa: E402
import pidgin_session  # noqa: E402

BUILD_TIMEOUT = 900          # the whole dpkg-buildpackage, on a slow machine
PACKAGES = ('purple-otr', 'pidgin-purple-otr', 'finch-purple-otr')
CORE_ID = 'core-purple-otr'
GTK_ID = 'gtk-purple-otr'
IN_ROOT = os.path.join(HERE, 'in-root.sh')
TOOLS = ('dpkg-buildpackage', 'dpkg-checkbuilddeps', 'dpkg-parsechangelog',
         'dpkg-deb', 'lintian', 'unshare', 'pkg-config', 'tmux', 'finch')


def srcdir():
    return os.environ.get('POTR_SRCDIR') or os.path.dirname(TESTS)


def run(cmd, timeout=120, **kwargs):
    """stdout+stderr of CMD as text; raises with the output on failure."""
    res = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=timeout,
                         check=False, **kwargs)
    out = res.stdout.decode('utf-8', 'replace')
    if res.returncode != 0:
        raise HarnessError('%s failed (%d):\n%s' % (' '.join(cmd),
                                                    res.returncode, out[-4000:]))
    return out


def namespace_works():
    """in-root.sh can lay a folder over /usr here (root or user namespace)."""
    empty = tempfile.mkdtemp(prefix='potr-ns-')
    try:
        os.mkdir(os.path.join(empty, 'usr'))
        res = subprocess.run([IN_ROOT, empty, 'true'], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, timeout=30)
        return res.returncode == 0
    finally:
        shutil.rmtree(empty, ignore_errors=True)


def missing():
    """Why this test cannot run here, or None."""
    for tool in TOOLS:
        if shutil.which(tool) is None:
            return '%s is not installed' % tool
    res = subprocess.run(['dpkg-checkbuilddeps'], cwd=srcdir(),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=60)
    if res.returncode != 0:
        return res.stdout.decode('utf-8', 'replace').strip()
    reason = pidgin_session.missing()
    if reason:
        return reason
    if not namespace_works():
        return 'cannot lay the packages over /usr (no mount namespace here)'
    return None


def copy_tree(dest):
    """The source tree without builds, VCS data or package build leftovers."""
    top = srcdir()

    def ignore(folder, names):
        rel = os.path.relpath(folder, top)
        skip = {n for n in names if n in ('.git', 'autom4te.cache', '__pycache__')
                or (rel == '.' and (n.startswith('_build') or n.endswith('.tar.gz')
                                    or n.startswith('purple-otr-')))}
        if rel == 'debian':
            skip |= {n for n in names if n in PACKAGES + ('tmp', '.debhelper', 'files')
                     or n.endswith(('.substvars', '.debhelper.log'))
                     or n.endswith('-dbgsym')}
        return skip
    shutil.copytree(top, dest, symlinks=True, ignore=ignore)


def build(tap, work):
    """Builds the packages in WORK; returns {package: path of its .deb}."""
    version = run(['dpkg-parsechangelog', '-l',
                   os.path.join(srcdir(), 'debian', 'changelog'), '-S',
                   'Version'])
    upstream = version.strip().rsplit('-', 1)[0]
    tree = os.path.join(work, 'purple-otr-' + upstream)
    copy_tree(tree)
    env = dict(os.environ)
    # the suite is the check (this test is part of it); two jobs, as the
    # machine's other tests run at the same time
    env['DEB_BUILD_OPTIONS'] = 'nocheck parallel=2'
    # a clean build: neither this make's job server nor the suite's settings
    for var in list(env):
        if var in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'G_DEBUG', 'MALLOC_PERTURB_') \
                or var.startswith('POTR_'):
            del env[var]
    started = time.monotonic()
    log = os.path.join(work, 'build.log')
    with open(log, 'wb') as out:
        res = subprocess.run(['dpkg-buildpackage', '-us', '-uc', '-b'],
                             cwd=tree, env=env, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT,
                             timeout=BUILD_TIMEOUT)
    with open(log, 'rb') as f:
        text = f.read().decode('utf-8', 'replace')
    if not tap.ok(res.returncode == 0, 'dpkg-buildpackage -us -uc -b builds the packages',
                  'exit status %d; the end of the build log:\n%s'
                  % (res.returncode, '\n'.join(text.splitlines()[-60:]))):
        raise HarnessError('no packages to check')
    tap.diag('packages built in %.0f s' % (time.monotonic() - started))
    debs = {}
    for name in PACKAGES:
        path = os.path.join(work, '%s_%s_%s.deb' % (
            name, version.strip(), run(['dpkg', '--print-architecture']).strip()))
        tap.ok(os.path.exists(path), 'package built: %s' % os.path.basename(path),
               'in %s: %s' % (work, sorted(os.listdir(work))))
        debs[name] = path
    tap.is_(upstream, config_version(),
            'the package version is the release version (configure.ac)')
    return debs, version.strip()


def config_version():
    """PACKAGE_VERSION of this build (configure.ac's AC_INIT)."""
    path = os.path.join(harness._default_builddir(), 'config.h')
    with open(path) as f:
        m = re.search(r'#define PACKAGE_VERSION "([^"]*)"', f.read())
    return m.group(1) if m else None


def lintian(tap, work):
    changes = glob.glob(os.path.join(work, '*.changes'))
    res = subprocess.run(['lintian', '--pedantic', '--display-info',
                          '--display-experimental', '--fail-on', 'none']
                         + changes, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=600)
    out = res.stdout.decode('utf-8', 'replace')
    tags = [line for line in out.splitlines() if re.match(r'^[EWIPX]: ', line)]
    tap.ok(res.returncode == 0 and changes, 'lintian ran on %s'
           % ' '.join(os.path.basename(c) for c in changes), out)
    tap.is_(tags, [], 'lintian: no error, warning, info or pedantic tag '
            '(overrides explain the rest)')


def control_field(deb, field):
    return run(['dpkg-deb', '-f', deb, field]).strip()


def check_fields(tap, debs, version):
    exact = 'purple-otr (= %s)' % version
    for name in ('pidgin-purple-otr', 'finch-purple-otr'):
        depends = [d.strip() for d in control_field(debs[name], 'Depends').split(',')]
        tap.ok(exact in depends, '%s depends on exactly this core: %s' % (name, exact),
               repr(depends))


def pkgconfig(variable, module):
    return run(['pkg-config', '--variable=' + variable, module]).strip()


def check_files(tap, root):
    """The files where Debian's libpurple, Pidgin and Finch look (their
    pkg-config folders); the private library where the plugins' RUNPATH
    says; the README the plugins point to."""
    purple_dir = pkgconfig('plugindir', 'purple')
    pidgin_dir = pkgconfig('plugindir', 'pidgin')
    finch_dir = os.path.join(pkgconfig('libdir', 'finch'), 'finch')
    expected = [os.path.join(purple_dir, 'purple-otr.so'),
                os.path.join(pidgin_dir, 'purple-otr-gtk.so'),
                os.path.join(finch_dir, 'gnt-purple-otr.so'),
                os.path.join(pkgconfig('libdir', 'purple'), 'purple-otr',
                             'libpurple-otr-core.so'),
                '/usr/share/doc/purple-otr/README.md']
    for path in expected:
        tap.ok(os.path.isfile(root + path), 'installed: %s' % path,
               'files in the packages:\n' + '\n'.join(all_files(root)))
    for path in expected[:3]:
        runpath = run(['readelf', '-d', root + path])
        private = os.path.dirname(expected[3])
        tap.ok('[%s]' % private in runpath,
               '%s finds the private library (RUNPATH %s)'
               % (os.path.basename(path), private), runpath)
    stray = [p for p in all_files(root)
             if p.endswith('.la') or p.startswith('/usr/local')]
    tap.is_(stray, [], 'no libtool archive and nothing under /usr/local')
    metainfo = glob.glob(root + '/usr/share/metainfo/*.metainfo.xml')
    tap.ok(len(metainfo) == 1, 'the Pidgin package has AppStream metadata',
           repr(metainfo))
    if metainfo and shutil.which('appstreamcli'):
        out = subprocess.run(['appstreamcli', 'validate', '--no-net', '--pedantic',
                              metainfo[0]], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=60)
        tap.ok(out.returncode == 0, 'appstreamcli validates the installed metadata',
               out.stdout.decode('utf-8', 'replace'))


def all_files(root):
    out = []
    for folder, _, files in os.walk(root):
        out += ['/' + os.path.relpath(os.path.join(folder, f), root) for f in files]
    return sorted(out)


class SystemPidgin(pidgin_session.Pidgin):
    """Pidgin whose user plugin folder holds only the test probe. Its list
    of plugins to load names purple-otr-gtk.so in that folder, where it is
    not: libpurple then takes the plugin of that file name that its own
    search found, so Pidgin loads it only from a system folder."""

    def _write_config(self, jid, password, port, buddies, alias):
        probe = pidgin_session.plugin_files()[-1]
        link = os.path.join(self.config, 'plugins', os.path.basename(probe))
        os.symlink(probe, link)
        files = {
            'accounts.xml': harness.accounts_xml(jid, password, port, 'gtk-gaim', alias),
            'blist.xml': pidgin_session.BLIST_XML.format(
                account=quoteattr(jid), contacts=''),
            'prefs.xml': pidgin_session.PREFS_XML.format(plugins='\n'.join(
                '    <item value=%s/>' % quoteattr(p)
                for p in (link, os.path.join(os.path.dirname(link),
                                              'purple-otr-gtk.so')))),
        }
        for fn, text in files.items():
            path = os.path.join(self.config, fn)
            with open(path, 'w') as f:
                f.write(text)
            os.chmod(path, 0o600)


def check_pidgin(tap, root, server, jid):
    display = pidgin_session.Xvfb()
    os.environ['POTR_PIDGIN_WRAPPER'] = '%s %s' % (IN_ROOT, root)
    pidgin = SystemPidgin(display.display, jid, 'alice-pw', server.port)
    try:
        pidgin.start()
        loaded = pidgin.wait_until('the OTR plugins to be loaded',
                                   lambda a: GTK_ID in a and CORE_ID in a,
                                   'plugins', timeout=30)
        tap.ok(GTK_ID in loaded and CORE_ID in loaded,
               'real Pidgin loads %s and %s from the system folders'
               % (GTK_ID, CORE_ID), repr(loaded))
        where = os.path.join(pkgconfig('plugindir', 'pidgin'), 'purple-otr-gtk.so')
        tap.ok('Loading saved plugin %s\n' % where in pidgin.log_text(),
               'Pidgin found it in its system folder: %s' % where,
               pidgin.log_tail(80))
    finally:
        pidgin.quit()
        pidgin.kill()
        display.kill()
        os.environ.pop('POTR_PIDGIN_WRAPPER', None)


def finch_module():
    path = os.path.join(TESTS, 'finch', 'test-finch.py')
    spec = importlib.util.spec_from_file_location('finch_test', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_finch(tap, root, server, jid):
    finch_test = finch_module()
    finch_test.FINCH = '%s %s %s' % (IN_ROOT, root, shutil.which('finch'))
    bob = Client('bob', 'bob@localhost/e2e', 'bob-pw', server, plugins=[])
    # Finch's list of plugins to load names gnt-purple-otr.so in the empty
    # user plugin folder: libpurple takes the file of that name that
    # Finch's own search found, in a system folder
    finch = finch_test.Finch(jid, 'alice-pw', server.port, ['gnt-purple-otr.so'])
    os.unlink(os.path.join(finch.config, 'plugins', 'gnt-purple-otr.so'))
    try:
        bob.login()
        finch.start()
        finch.wait(r'Buddy List')
        bob.send('alice@localhost', 'hello alice')
        screen = finch.wait(r'OTR: Not private')
        tap.ok('OTR: Not private' in screen,
               'real Finch loads gnt-purple-otr from its system folder: '
               'the conversation shows the OTR status line', screen)
    finally:
        if finch.exit_status():
            tap.diag('finch stderr:\n' + finch.stderr()[-3000:])
        finch.kill()
        bob.kill()


def test_packages(tap):
    work = tempfile.mkdtemp(prefix='potr-deb-')
    try:
        debs, version = build(tap, work)
        lintian(tap, work)
        check_fields(tap, debs, version)
        root = os.path.join(work, 'root')
        for deb in debs.values():
            run(['dpkg-deb', '-x', deb, root])
        check_files(tap, root)
        with Prosody() as server:
            alice = server.register('alice', 'alice-pw')
            server.register('bob', 'bob-pw')
            server.befriend('alice', 'bob')
            check_pidgin(tap, root, server, alice + '/pidgin')
            check_finch(tap, root, server, alice + '/finch')
    finally:
        if harness.KEEP_TMP:
            tap.diag('kept %s' % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def main():
    tap = Tap()
    if os.environ.get('POTR_PACKAGE_TEST') == 'no':
        tap.skip_all('disabled (configure --disable-package-test)')
    reason = missing()
    if reason:
        if os.environ.get('POTR_REQUIRE_PACKAGE_TEST') == '1':
            tap.bail_out('the package test must run here: ' + reason)
        tap.skip_all(reason)
    tap.run('Debian packages: build, lintian, Pidgin and Finch load them',
            test_packages, timeout=BUILD_TIMEOUT + 300)
    tap.done()


if __name__ == '__main__':
    main()
