# purple-otr - GPL-2.0-or-later (see COPYING)
# Real Pidgin for the tests: an Xvfb display (Xvfb), and Pidgin itself
# (Pidgin) with a private config dir, one XMPP account on the test's
# prosody, and the plugins under test plus the test probe (probe.c), through
# which the tests read and drive the widget tree. Runs with /usr/bin/python3
# and the standard library only; process bookkeeping is harness.py's.

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from xml.sax.saxutils import quoteattr, escape

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'e2e'))
import harness  # noqa: E402
from harness import HarnessError  # noqa: E402

XVFB = shutil.which('Xvfb') or '/usr/bin/Xvfb'
PIDGIN = shutil.which('pidgin') or '/usr/bin/pidgin'
TIMEOUT = harness.DEFAULT_TIMEOUT


def builddir():
    return os.environ.get('POTR_BUILDDIR') or os.path.dirname(
        os.path.dirname(HERE))


def plugin_files():
    """The built plugins Pidgin loads: core, Pidgin UI, test probe."""
    top = builddir()
    return [os.path.join(top, 'src', 'core', '.libs', 'purple-otr.so'),
            os.path.join(top, 'src', 'pidgin', '.libs', 'purple-otr-gtk.so'),
            os.path.join(top, 'tests', 'pidgin', '.libs', 'probe.so')]


def sanitizer_runtime():
    """The sanitizer runtimes the built plugins need (--enable-asan), as
    paths; empty for a normal build."""
    libs = []
    for path in plugin_files():
        try:
            out = subprocess.run(['ldd', path], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=30,
                                 check=False).stdout.decode()
        except (OSError, subprocess.TimeoutExpired):
            continue
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[1] == '=>' and (
                    'libasan' in parts[0] or 'libubsan' in parts[0]) \
                    and parts[2] not in libs:
                libs.append(parts[2])
    return libs


LEGACY_PLUGIN = '/usr/lib/pidgin/pidgin-otr.so'


def legacy_plugin():
    """The real pidgin-otr 4.0.2 (Debian's pidgin-otr), or None."""
    return LEGACY_PLUGIN if os.path.exists(LEGACY_PLUGIN) else None


def missing():
    """Why these tests cannot run here, or None."""
    for prog in (XVFB, PIDGIN):
        if not os.access(prog, os.X_OK):
            return '%s not installed' % os.path.basename(prog)
    if not harness.Prosody.available():
        return 'prosody not installed'
    for path in plugin_files():
        if not os.path.exists(path):
            return '%s not built' % os.path.basename(path)
    if not os.access(harness.client_binary(), os.X_OK):
        return 'purple-client not built'
    if sanitizer_runtime():
        # Pidgin is not built with ASan, so it cannot load these plugins;
        # preloading the runtime deadlocks in Pidgin's gettext setup
        return 'plugins built with --enable-asan; Pidgin is not'
    return None


class Xvfb(object):
    """A private X server; Xvfb itself picks a free display number."""

    def __init__(self, size='1280x900x24'):
        rfd, wfd = os.pipe()
        self.proc = subprocess.Popen(
            [XVFB, '-displayfd', str(wfd), '-screen', '0', size,
             '-nolisten', 'tcp', '-noreset'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, pass_fds=(wfd,),
            start_new_session=True)
        os.close(wfd)
        harness._register(self)
        number = b''
        with os.fdopen(rfd, 'rb') as r:
            # Xvfb writes the number once it accepts connections
            number = r.readline().strip()
        if not number:
            self.kill()
            raise HarnessError('Xvfb did not start')
        self.display = ':' + number.decode()

    def kill(self):
        if self.proc is not None:
            harness._killpg(self.proc, grace=3.0)
            self.proc = None
        harness._unregister(self)


BLIST_XML = '''<?xml version='1.0' encoding='UTF-8' ?>
<purple version='1.0'>
 <blist>
  <group name='Buddies'>
   <setting name='collapsed' type='bool'>0</setting>
{contacts}
  </group>
 </blist>
 <privacy>
  <account proto='prpl-jabber' name={account} mode='1'/>
 </privacy>
</purple>
'''

CONTACT_XML = '''   <contact>
    <buddy account={account} proto='prpl-jabber'>
     <name>{name}</name>
     <alias>{alias}</alias>
    </buddy>
   </contact>'''

PREFS_XML = '''<?xml version='1.0' encoding='UTF-8' ?>
<pref version='1' name='/'>
 <pref name='purple'>
  <pref name='network'>
   <pref name='stun_server' type='string' value=''/>
   <pref name='auto_ip' type='bool' value='0'/>
   <pref name='map_ports' type='bool' value='0'/>
  </pref>
  <pref name='logging'>
   <pref name='log_ims' type='bool' value='0'/>
   <pref name='log_chats' type='bool' value='0'/>
   <pref name='log_system' type='bool' value='0'/>
  </pref>
  <pref name='away'>
   <pref name='idle_reporting' type='string' value='none'/>
  </pref>
 </pref>
 <pref name='pidgin'>
  <pref name='plugins'>
   <pref name='loaded' type='pathlist'>
{plugins}
   </pref>
  </pref>
  <pref name='sound'>
   <pref name='method' type='string' value='none'/>
  </pref>
  <pref name='docklet'>
   <pref name='show' type='string' value='never'/>
  </pref>
  <pref name='conversations'>
   <pref name='im'>
    <pref name='default_width' type='int' value='560'/>
    <pref name='default_height' type='int' value='380'/>
   </pref>
  </pref>
  <pref name='blist'>
   <pref name='width' type='int' value='260'/>
   <pref name='height' type='int' value='420'/>
   <pref name='x' type='int' value='1000'/>
   <pref name='y' type='int' value='20'/>
  </pref>
 </pref>
</pref>
'''


class Pidgin(object):
    """Pidgin with its own config dir (-c), on DISPLAY, signed on to the
    test's prosody; probe() talks to the probe plugin inside it."""

    def __init__(self, display, jid, password, port, buddies=(),
                 name='pidgin', alias=''):
        """buddies: names, or (name, alias) pairs, put in the buddy list."""
        self.name = name
        self.display = display
        self.dir = tempfile.mkdtemp(prefix='potr-pidgin-')
        self.config = os.path.join(self.dir, 'purple')
        self.home = os.path.join(self.dir, 'home')
        self.log_path = os.path.join(self.dir, 'pidgin.log')
        self.proc = None
        self._answers = queue.Queue()
        self._reader = None
        self._to_probe = None
        # variables set last in Pidgin's environment (a language)
        self.extra_env = {}
        os.makedirs(os.path.join(self.config, 'plugins'), mode=0o700)
        os.makedirs(self.home, mode=0o700)
        self._write_config(jid, password, port, buddies, alias)
        harness._register(self)

    def _write_config(self, jid, password, port, buddies, alias):
        loaded = []
        for path in plugin_files():
            link = os.path.join(self.config, 'plugins', os.path.basename(path))
            os.symlink(path, link)
            if not link.endswith('/purple-otr.so'):   # loaded as a dependency
                loaded.append(link)
        account = quoteattr(jid)
        pairs = [(b, '') if isinstance(b, str) else b for b in buddies]
        files = {
            'accounts.xml': harness.accounts_xml(jid, password, port, 'gtk-gaim', alias),
            'blist.xml': BLIST_XML.format(
                account=account, contacts='\n'.join(
                    CONTACT_XML.format(account=account, name=escape(b),
                                       alias=escape(a))
                    for b, a in pairs)),
            'prefs.xml': PREFS_XML.format(plugins='\n'.join(
                '    <item value=%s/>' % quoteattr(p) for p in loaded)),
        }
        for fn, text in files.items():
            path = os.path.join(self.config, fn)
            with open(path, 'w') as f:
                f.write(text)
            os.chmod(path, 0o600)

    def start(self, timeout=TIMEOUT):
        to_probe_r, to_probe_w = os.pipe()
        from_probe_r, from_probe_w = os.pipe()
        env = dict(os.environ)
        for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY',
                    'all_proxy', 'ALL_PROXY', 'GTK_MODULES', 'XAUTHORITY'):
            env.pop(var, None)
        env.update({
            'DISPLAY': self.display, 'HOME': self.home, 'LANG': 'C.UTF-8',
            'LANGUAGE': '', 'LC_ALL': 'C.UTF-8', 'NO_AT_BRIDGE': '1',
            'DBUS_SESSION_BUS_ADDRESS': 'unix:path=/nonexistent/potr-pidgin',
            'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=/nonexistent/potr-pidgin',
            'POTR_PROBE_IN': str(to_probe_r),
            'POTR_PROBE_OUT': str(from_probe_w)})
        env.update(self.extra_env)

        log = open(self.log_path, 'wb')
        # POTR_PIDGIN_WRAPPER, e.g. "gdb -batch -ex run -ex bt --args"
        wrapper = os.environ.get('POTR_PIDGIN_WRAPPER', '').split()
        self.proc = subprocess.Popen(
            wrapper + [PIDGIN, '-d', '-m', '-c', self.config],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, pass_fds=(to_probe_r, from_probe_w),
            start_new_session=True, cwd=self.dir)
        log.close()
        os.close(to_probe_r)
        os.close(from_probe_w)
        self._to_probe = os.fdopen(to_probe_w, 'w', buffering=1)
        self._reader = threading.Thread(
            target=self._read_answers, args=(from_probe_r,), daemon=True,
            name='%s-probe' % self.name)
        self._reader.start()
        first = self._next_answer(timeout)
        if first[:2] != ['ok', 'ready']:
            raise HarnessError('probe did not start: %r\n%s'
                               % (first, self.log_tail()))
        return self

    def _read_answers(self, fd):
        with os.fdopen(fd, 'rb') as stream:
            for raw in iter(stream.readline, b''):
                line = raw.decode('utf-8', 'replace').rstrip('\n')
                self._answers.put([harness.unescape_field(f)
                                   for f in line.split('\t')])
        self._answers.put(None)

    def _next_answer(self, timeout):
        try:
            got = self._answers.get(timeout=timeout)
        except queue.Empty:
            raise HarnessError('%s: no answer from the probe in %.0fs\n%s'
                               % (self.name, timeout, self.log_tail()))
        if got is None:
            self._answers.put(None)
            raise HarnessError('%s: Pidgin exited (%s)\n%s' % (
                self.name, self.proc.poll() if self.proc else '?',
                self.log_tail()))
        return got

    def probe(self, *fields, timeout=TIMEOUT, check=True):
        """Send one request; returns the answer's fields (after ok/err).
        With check, an "err" answer raises."""
        if self.proc is None:
            raise HarnessError('%s: not running' % self.name)
        self._to_probe.write('\t'.join(harness.escape_field(f)
                                       for f in fields) + '\n')
        got = self._next_answer(timeout)
        if check and got[0] != 'ok':
            raise HarnessError('%s: probe %r: %r' % (self.name, fields, got))
        return got[1:] if got[0] == 'ok' else None

    def wait_until(self, what, fields_ok, *fields, timeout=TIMEOUT):
        """Ask the probe again until fields_ok(answer) holds: the widget
        tree follows the events that Pidgin's main loop handles between two
        requests. Raises with the last answer on timeout."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            last = self.probe(*fields, check=False)
            if last is not None and fields_ok(last):
                return last
            if time.monotonic() > deadline:
                raise HarnessError('%s: timed out waiting for %s; last '
                                   'answer %r\n%s' % (self.name, what, last,
                                                      self.log_tail()))
            time.sleep(0.05)

    def log_tail(self, n=40):
        try:
            with open(self.log_path, 'rb') as f:
                lines = f.read().decode('utf-8', 'replace').splitlines()
        except OSError:
            return ''
        return '\n'.join('  | ' + s for s in lines[-n:])

    def log_text(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def quit(self, timeout=TIMEOUT):
        """Quit through the probe (purple_core_quit: plugins unload)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.poll() if self.proc else None
        try:
            self.probe('quit')
            return self.proc.wait(timeout=timeout)
        except (HarnessError, subprocess.TimeoutExpired):
            harness._killpg(self.proc)
            return None

    def kill(self):
        if self.proc is not None:
            harness._killpg(self.proc, grace=3.0)
            self.proc = None
        if self._to_probe is not None:
            try:
                self._to_probe.close()
            except OSError:
                pass
            self._to_probe = None
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        harness._rmtree(self.dir)
        harness._unregister(self)
