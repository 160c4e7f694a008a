# purple-otr - GPL-2.0-or-later (see COPYING)
# End-to-end test of the Finch plugin: real Finch in a private tmux server,
# with its own config dir and an XMPP account on a private prosody, the
# plugin loaded; the peer is a headless libpurple client with the core
# plugin (tests/e2e/harness.py). Every step is driven with tmux send-keys
# and checked on the screen with capture-pane, polling until the expected
# text shows up (no fixed sleeps).
#
#   POTR_KEEP_TMP=1        keep the temp dirs (Finch's config, prosody)
#   POTR_FINCH_SCREENS=1   print every screen the test waited for
#   POTR_FINCH_SAVE=PATH   write the screen of the private, verified
#                          conversation to PATH (docs/finch-conversation.txt)

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
import harness  # noqa: E402
from harness import Client, HarnessError, Prosody, Tap  # noqa: E402

TMUX = shutil.which('tmux')
FINCH = shutil.which('finch')
SCREEN_TIMEOUT = float(os.environ.get('POTR_FINCH_TIMEOUT', '20'))
SHOW_SCREENS = os.environ.get('POTR_FINCH_SCREENS') == '1'
FP_RX = r'(?:[0-9A-F]{8} ){4}[0-9A-F]{8}'
WRAP = r'[\s│▒]+'   # a space, or a line wrapped inside a window

# PotrSmpEvent and PotrLevel values (src/core/potr.h), as purple-client
# prints them
SMP_ASK_FOR_ANSWER = '4'
SMP_ASK_FOR_SECRET = '5'
SMP_SUCCESS = '7'
LEVEL_UNVERIFIED = '1'
LEVEL_FINISHED = '3'


def built_plugins():
    build = harness._default_builddir()
    core = os.path.join(build, 'src', 'core', '.libs', 'purple-otr.so')
    gnt = os.path.join(build, 'src', 'finch', '.libs', 'gnt-purple-otr.so')
    return core, gnt


PREFS_XML = '''<?xml version='1.0' encoding='UTF-8' ?>
<pref version='1' name='/'>
 <pref name='purple'>
  <pref name='network'>
   <pref name='stun_server' type='string' value=''/>
   <pref name='auto_ip' type='bool' value='0'/>
   <pref name='map_ports' type='bool' value='0'/>
  </pref>
 </pref>
 <pref name='finch'>
  <pref name='sound'>
   <pref name='method' type='string' value='nosound'/>
  </pref>
  <pref name='plugins'>
   <pref name='loaded' type='pathlist'>
    <item value='{plugin}'/>
   </pref>
  </pref>
 </pref>
</pref>
'''


class Finch(object):
    """Finch in its own tmux server (socket in the temp dir), 200x50."""

    def __init__(self, jid, password, port, plugins):
        self.dir = tempfile.mkdtemp(prefix='potr-finch-')
        self.config = os.path.join(self.dir, 'finch')
        self.socket = os.path.join(self.dir, 'tmux.sock')
        self.status_file = os.path.join(self.dir, 'finch.status')
        self.pane_pid = None
        self.last = ''
        # VAR=value words added last to Finch's environment (a language)
        self.extra_env = []
        plugin_dir = os.path.join(self.config, 'plugins')
        os.makedirs(plugin_dir)
        os.makedirs(os.path.join(self.dir, 'home'))
        for so in plugins:
            os.symlink(so, os.path.join(plugin_dir, os.path.basename(so)))
        with open(os.path.join(self.config, 'accounts.xml'), 'w') as f:
            f.write(harness.accounts_xml(jid, password, port, 'gnt-purple'))
        with open(os.path.join(self.config, 'prefs.xml'), 'w') as f:
            f.write(PREFS_XML.format(plugin=os.path.join(
                plugin_dir, os.path.basename(plugins[-1]))))
        harness._register(self)

    def tmux(self, *args, check=True):
        res = subprocess.run([TMUX, '-S', self.socket, '-f', '/dev/null']
                             + list(args), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=10)
        if check and res.returncode != 0:
            raise HarnessError('tmux %s: %s' % (args[0], res.stderr.decode()))
        return res.stdout.decode('utf-8', 'replace')

    def start(self):
        home = os.path.join(self.dir, 'home')
        env = ['TERM=screen-256color', 'LANG=C.UTF-8', 'LC_ALL=C.UTF-8',
               'HOME=' + home, 'XDG_CONFIG_HOME=' + home,
               'XDG_DATA_HOME=' + home, 'XDG_CACHE_HOME=' + home,
               'DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/potr-finch',
               'DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/potr-finch',
               'PULSE_SERVER=unix:/nonexistent/potr-finch'] + self.extra_env
        # the shell keeps Finch's exit status (128 + N for signal N)
        command = 'env -u DISPLAY %s %s --config=%s 2>%s; echo $? >%s' % (
            ' '.join(env), FINCH, self.config,
            os.path.join(self.dir, 'finch.stderr'), self.status_file)
        self.tmux('new-session', '-d', '-s', 'finch', '-x', '200', '-y', '50',
                  command)
        self.pane_pid = int(self.tmux('display-message', '-p', '-t', 'finch',
                                      '#{pane_pid}').strip())

    def screen(self):
        self.last = self.tmux('capture-pane', '-p', '-t', 'finch',
                              check=not self.dead())
        return self.last

    def keys(self, *keys):
        self.tmux('send-keys', '-t', 'finch', *keys)

    def type(self, text):
        self.tmux('send-keys', '-t', 'finch', '-l', text)

    def wait(self, pattern, timeout=SCREEN_TIMEOUT, gone=False):
        """Poll the screen until PATTERN (a regex) is on it (or, with
        gone=True, no longer on it); returns the screen."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if bool(rx.search(text)) != gone:
                if SHOW_SCREENS:
                    sys.stderr.write('# --- %s%r\n%s' % (
                        'gone: ' if gone else '', pattern, text))
                return text
            if self.dead():
                raise HarnessError('finch exited (%s) waiting for %r:\n%s'
                                   % (self.exit_status(), pattern, text))
            if time.monotonic() > deadline:
                raise HarnessError('%r %s within %.0fs; screen:\n%s' % (
                    pattern, 'still shown' if gone else 'not shown',
                    timeout, text))
            time.sleep(0.05)

    def exit_status(self):
        """Finch's exit status once it has exited, else None."""
        try:
            with open(self.status_file) as f:
                return int(f.read().strip() or '-1')
        except (OSError, ValueError):
            return None

    def dead(self):
        return self.exit_status() is not None

    def wait_exit(self, timeout=SCREEN_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self.dead():
            if time.monotonic() > deadline:
                raise HarnessError('finch did not exit; screen:\n%s'
                                   % self.screen())
            time.sleep(0.05)
        return self.exit_status()

    def stderr(self):
        try:
            with open(os.path.join(self.dir, 'finch.stderr'), 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def kill(self):
        if self.pane_pid is not None:
            try:
                os.killpg(self.pane_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.pane_pid = None
        if os.path.exists(self.socket):
            self.tmux('kill-server', check=False)
        if harness.KEEP_TMP:
            sys.stderr.write('# kept %s\n' % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        harness._unregister(self)


def window(screen, title_rx):
    """The lines of the window whose title matches TITLE_RX (top border to
    bottom border, from its left border on): for saving a screen."""
    lines = screen.splitlines()
    for top, line in enumerate(lines):
        m = re.search(r'┌[─┤]*┤' + title_rx, line)
        if not m:
            continue
        left = m.start()
        out = []
        for line in lines[top:]:
            out.append(line[left:].rstrip())
            if line[left:left + 1] == '└':
                break
        return '\n'.join(out) + '\n'
    return screen


def open_otr_menu(finch):
    finch.keys('M-o')
    return finch.wait(r'│(Start|Refresh) private conversation')


def close_menu(finch):
    finch.keys('Escape')
    finch.wait(r'│(Start|Refresh) private conversation', gone=True)


def peer_told(bob, since):
    """The peer learns that the private conversation ended (Finished)."""
    return bob.wait_for(('level', None, '^%s$' % LEVEL_FINISHED),
                        since=since)


def open_plugins(finch):
    """alt+a, Plugins; our entry selected (the list has the focus)."""
    finch.keys('M-a')
    finch.wait(r'┤Actions├')
    finch.type('/Plu')
    finch.wait(r'│Plu\s')
    finch.keys('Enter')
    finch.wait(r'You can \(un\)load plugins')
    finch.type('/Off-the')
    finch.wait(r'Name: Off-the-Record \(purple-otr\)')
    finch.keys('Escape')           # ends the search (the line goes)
    finch.wait(r'│Off-the {5,}', gone=True)


def test_finch(tap):
    with Prosody() as server:
        alice_jid = server.register('alice', 'alice-pw') + '/finch'
        bob_jid = server.register('bob', 'bob-pw') + '/e2e'
        server.befriend('alice', 'bob')
        bob = Client('bob', bob_jid, 'bob-pw', server,
                     plugins=['core-purple-otr'])
        finch = Finch(alice_jid, 'alice-pw', server.port, built_plugins())
        try:
            run_steps(tap, server, bob, finch)
        finally:
            if finch.exit_status():
                tap.diag('finch stderr:\n' + finch.stderr()[-3000:])
            finch.kill()
            bob.kill()


def run_steps(tap, server, bob, finch):
    # the peer does not start OTR by itself (no whitespace tag on its
    # plaintext): Finch starts it, from the menu
    bob.call('pref-bool', '/OTR/automatic', '0')
    bob.login()
    finch.start()
    finch.wait(r'Buddy List')

    # -- a conversation with an OTR peer: the status line and the title --
    # (offline storage delivers it if Finch is not signed on yet)
    bob.send('alice@localhost', 'hello alice')
    screen = finch.wait(r'OTR: Not private   \[alt\+o: OTR menu\]')
    tap.ok(re.search(r'bob@localhost.*\| OTR: Not private', screen),
           'a new conversation shows "Not private" in its title and status '
           'line', screen)
    finch.keys('M-n')          # Finch opens it behind the buddy list: focus
    finch.wait(r'┌─*┤bob@localhost[^┐]*\| OTR: Not private├')

    # -- the OTR menu: alt+o, then s (start) --
    screen = open_otr_menu(finch)
    tap.ok('End private conversation' in screen and 'Verify buddy' in
           screen and 'Instance' in screen,
           'alt+o opens the OTR menu (start, end, verify, instance)',
           screen)
    finch.keys('s')
    finch.wait(r'OTR: Unverified   \[alt')
    finch.wait(r'\| OTR: Unverified├')
    tap.ok(True, 'start from the menu: key generated in the background, '
           'the conversation is Unverified (status line and title)')
    conv = bob.wait_for(('level', None, '^%s$' % LEVEL_UNVERIFIED))[0]

    # -- the /otr commands work in the conversation window --
    finch.type('/otr status')
    finch.keys('Enter')
    screen = finch.wait(r'OTR status of the conversation with%s'
                        r'bob@localhost[^:]*:%sUnverified' % (WRAP, WRAP))
    tap.ok(True, '/otr status answers in the conversation')

    # -- authenticate with a question: chooser, question, progress, outcome
    open_otr_menu(finch)
    finch.keys('a')
    screen = finch.wait(r'How do you want to verify')
    tap.ok('(q) Question and answer' in screen and '(s) Shared secret' in
           screen and '(f) Compare fingerprints by hand' in screen,
           'a: the method chooser offers question, secret and fingerprint',
           screen)
    finch.keys('q')
    finch.wait(r'a question only they can answer')
    finch.type('Favourite colour?')
    finch.keys('Enter')        # on to the answer
    finch.keys('Enter')        # no answer yet: the dialog says so
    finch.wait(r'Type the answer first\.')
    finch.type('blue')         # (the focus stayed on the answer)
    finch.keys('Enter')
    screen = finch.wait(r'Waiting for your buddy to answer')
    tap.ok(re.search(r'Authenticating bob@localhost', screen) and
           re.search(r'OTR: Unverified - authenticating \(\d+%\)', screen),
           'the question is sent: progress dialog and status line', screen)
    ask = bob.wait_for(('smp', None, '^%s$' % SMP_ASK_FOR_ANSWER))
    bob.wait_for(lambda e: e.kind == 'write' and
                 'Favourite colour?' in e.text)
    tap.ok(True, 'the peer is asked the question')
    bob.command(ask[0], 'otr smp respond blue')
    screen = finch.wait(r'Authentication succeeded\.')
    tap.ok(re.search(r'is verified: the conversation is private', screen),
           'the right answer: the outcome dialog says so', screen)
    finch.wait(r'OTR: Private   \[alt')
    finch.keys('Enter')        # Close
    finch.wait(r'Authentication succeeded', gone=True)
    finch.wait(r'\| OTR: Private├')
    tap.ok(True, '"Private" in the status line and the title')

    # -- private messages both ways --
    finch.type('hello bob, this is private')
    finch.keys('Enter')
    got = bob.wait_for(lambda e: e.kind == 'write' and
                       'this is private' in e.text and
                       e.flags & harness.MSG_RECV)
    tap.ok(got, 'alice types in Finch, the peer reads it decrypted')
    bob.send(conv, 'hi alice, private too')
    screen = finch.wait(r'hi alice, private too')
    tap.ok(True, 'the peer answers, Finch shows it decrypted')
    saved = window(screen, r'bob@localhost')
    target = os.environ.get('POTR_FINCH_SAVE')
    if target:
        with open(target, 'w') as f:
            f.write(saved)
    bob.flush()
    tap.ok(not any('this is private' in b or 'private too' in b
                   for b in server.archive_bodies('alice')
                   + server.archive_bodies('bob')),
           'the server archived no plaintext')

    # -- the peer authenticates us: responder dialog --
    bob.command(conv, 'otr smp ask "Where did we meet?" Berlin')
    finch.wait(r'verification request: press alt\+o, then a')
    tap.ok(True, 'a request of the peer shows in the status line')
    screen = open_otr_menu(finch)
    tap.ok('Answer verification request...' in screen,
           'the OTR menu leads to the request', screen)
    finch.keys('a')
    screen = finch.wait(r'wants to verify you')
    tap.ok('Where did we meet?' in screen,
           'the responder dialog shows the question', screen)
    finch.type('Berlin')
    finch.keys('Enter')
    screen = finch.wait(r'Authentication succeeded\.')
    tap.ok('has verified you' in screen,
           'the right answer: the peer has verified us', screen)
    bob.wait_for(('smp', None, '^%s$' % SMP_SUCCESS))
    finch.keys('Enter')
    finch.wait(r'Authentication succeeded', gone=True)

    # -- manual fingerprint check: distrust, then trust again --
    open_otr_menu(finch)
    finch.keys('a')
    finch.wait(r'How do you want to verify')
    finch.keys('f')
    screen = finch.wait(r'Compare the fingerprints by hand')
    fps = re.findall(FP_RX, screen)
    tap.ok(len(fps) >= 2 and 'It is verified now.' in screen,
           'f: both fingerprints, and the peer is verified now', screen)
    finch.keys('Tab', 'Enter')     # "It is not verified"
    finch.wait(r'OTR: Unverified   \[alt')
    finch.wait(r'\| OTR: Unverified├')
    tap.ok(True, '"not verified": the conversation is Unverified at once '
           '(status line and title)')
    open_otr_menu(finch)
    finch.keys('a')
    finch.wait(r'How do you want to verify')
    finch.keys('f')
    finch.wait(r'It is not verified now\.')
    finch.keys('Enter')            # "I have verified it"
    finch.wait(r'OTR: Private   \[alt')
    tap.ok(True, '"I have verified it": Private again')

    # -- a shared secret, mistyped by the peer: the check fails --
    open_otr_menu(finch)
    finch.keys('a')
    finch.wait(r'How do you want to verify')
    finch.keys('s')
    finch.wait(r'Enter a secret only you and')
    finch.type('correct horse')
    screen = finch.wait(r'Secret:%s[*·]{13}_' % WRAP)
    tap.ok('correct horse' not in screen,
           's: the shared secret is masked as it is typed', screen)
    finch.keys('Enter')
    finch.wait(r'Waiting for your buddy to answer')
    ask = bob.wait_for(('smp', None, '^%s$' % SMP_ASK_FOR_SECRET))
    bob.command(ask[0], 'otr smp respond wrong horse')
    screen = finch.wait(r'Authentication FAILED\.')
    tap.ok(re.search(r'did not match', screen),
           'a wrong secret: the outcome says the check failed', screen)
    finch.wait(r'OTR: Unverified   \[alt')
    tap.ok(True, 'a failed check withdraws the trust: Unverified')

    # -- "Verify again", with the secret right this time --
    finch.keys('Tab', 'Enter')     # Close, [Verify again]
    finch.wait(r'How do you want to verify')
    finch.keys('s')
    finch.wait(r'Enter a secret only you and')
    finch.type('correct horse')
    finch.keys('Enter')
    ask = bob.wait_for(('smp', None, '^%s$' % SMP_ASK_FOR_SECRET))
    bob.command(ask[0], 'otr smp respond correct horse')
    finch.wait(r'Authentication succeeded\.')
    finch.wait(r'OTR: Private   \[alt')
    tap.ok(True, 'authenticated again with the shared secret: Private')
    finch.keys('Enter')            # Close
    finch.wait(r'Authentication succeeded', gone=True)

    # -- what the levels mean --
    open_otr_menu(finch)
    finch.keys('w')
    finch.wait(r'Unverified: encrypted, but you have not checked')
    tap.ok(True, 'w: what the levels mean, written into the conversation')

    # -- instances --
    open_otr_menu(finch)
    finch.keys('i')
    screen = finch.wait(r'Best login \(the most private, most recently active\)')
    tap.ok(re.search(r'Login [0-9a-f]{8}: Private', screen),
           'i: the instance menu lists the peer\'s login', screen)
    finch.keys('b')                # best (automatic)
    finch.wait(r'Best login', gone=True)

    # -- the policy for this buddy --
    open_otr_menu(finch)
    finch.keys('p')
    screen = finch.wait(r'\[X\] Default \(opportunistic\)')
    tap.ok('Always (require OTR)' in screen,
           'p: the policy menu, the buddy on the default', screen)
    finch.keys('m')                # manual
    finch.wait(r'\[X\] Default', gone=True)
    finch.type('/otr status')
    finch.keys('Enter')
    finch.wait(r'policy:%smanual\)' % WRAP)
    open_otr_menu(finch)
    finch.keys('p')
    finch.wait(r'\[X\] Manual')
    finch.keys('d')                # back to the default
    finch.wait(r'\[X\] Manual', gone=True)
    tap.ok(True, 'p, m: the buddy\'s own policy is set (and d resets it)')

    # -- the buddy list: F11 on the buddy, OTR, settings for this buddy --
    finch.keys('M-n')              # the buddy list
    finch.keys('Down', 'F11')      # bob's row, its menu
    finch.wait(r'│OTR +\(o\) >')
    finch.keys('o')
    screen = finch.wait(r'Settings for this buddy\.\.\.')
    tap.ok(re.search(r'Verify buddy(\.\.\.|…)', screen) and
           'Start or refresh private conversation' in screen,
           'F11 on the buddy: an OTR submenu (start, end, verify, '
           'settings)', screen)
    finch.keys('t')
    finch.wait(r'┤OTR settings for bob@localhost├')
    finch.keys('Space')            # [ ] Use the default settings
    finch.wait(r'\[ \] Use the default settings')
    finch.keys('Tab', 'Enter')     # the policy: opportunistic -> always
    finch.wait(r'│Never: no private conversations')
    finch.keys('Down', 'Enter')
    finch.wait(r'│Always: require them')
    finch.keys('Tab', 'Tab', 'Enter')   # Don't log, Save
    finch.wait(r'┤OTR settings for bob@localhost├', gone=True)
    finch.keys('M-n')              # back to the conversation
    finch.wait(r'┌─*┤bob@localhost[^┐]*\| OTR: Private├')
    finch.type('/otr status')
    finch.keys('Enter')
    finch.wait(r'policy:%salways\)' % WRAP)
    tap.ok(True, 'settings for this buddy: own policy saved (always)')
    open_otr_menu(finch)
    finch.keys('p')
    finch.wait(r'\[X\] Always \(require OTR\)')
    finch.keys('d')                # back to the default
    finch.wait(r'\[X\] Always', gone=True)

    # -- end, then /otr start again --
    open_otr_menu(finch)
    since = bob.mark()
    finch.keys('e')
    finch.wait(r'OTR: Not private   \[alt')
    finch.wait(r'\| OTR: Not private├')
    peer_told(bob, since)
    tap.ok(True, 'e: the private conversation ends, the peer is told')
    finch.type('/otr start')
    finch.keys('Enter')
    finch.wait(r'OTR: Private   \[alt')
    tap.ok(True, '/otr start: private again, and still verified')

    # -- preferences: Plugins > Configure --
    open_plugins(finch)
    finch.keys('Tab', 'Tab', 'Tab', 'Enter')
    screen = finch.wait(r'My private keys\.\.\.')
    tap.ok(re.search(r'Default policy:.*Opportunistic', screen) and
           "[X] Don't log OTR conversations" in screen and
           'Known fingerprints...' in screen,
           'Configure Plugin: the policy, don\'t-log, the fingerprints and '
           'the keys', screen)
    # focus: policy, don't log, Known fingerprints..., My private keys...
    finch.keys('Tab', 'Tab', 'Enter')
    screen = finch.wait(r'┤OTR: known fingerprints├')
    tap.ok(re.search(r'\*bob@localhost\s*│yes[^│]*│%s' % FP_RX, screen) and
           'Seen by your account alice@localhost/finch (XMPP)' in screen,
           'known fingerprints: the peer\'s, verified and in use, and the '
           'account that saw it', screen)
    # focus: the list, Verify..., Not verified, Forget, Close
    finch.keys('Tab', 'Tab', 'Enter')
    finch.wait(r'\*bob@localhost\s*│no\s')
    tap.ok(True, '"Not verified" in the fingerprint list')
    finch.keys('BTab', 'Enter')    # "Verify...": a confirmation
    finch.wait(r'Have you checked it with your buddy')
    finch.keys('Enter')            # "I have verified it"
    finch.wait(r'\*bob@localhost\s*│yes\s')
    tap.ok(True, '"Verify..." in the fingerprint list')
    finch.keys('Tab', 'Tab', 'Enter')   # Forget: refused, it is in use
    screen = finch.wait(r'could not be forgotten')
    tap.ok('in use' in screen, 'a fingerprint in use is not forgotten',
           screen)
    finch.keys('Enter')
    finch.wait(r'could not be forgotten', gone=True)
    finch.keys('Tab', 'Enter')          # Close
    finch.wait(r'┤OTR: known fingerprints├', gone=True)
    finch.keys('Tab', 'Enter')          # My private keys...
    screen = finch.wait(r'┤OTR: my private keys├')
    mine = re.search(r'alice@localhost/finch \(XMPP\)\s*│(%s)' % FP_RX,
                     screen)
    tap.ok(mine, 'my private keys: the account\'s fingerprint', screen)
    finch.keys('Tab', 'Enter')          # Generate key: confirmation first
    finch.wait(r'Replace the OTR key of alice@localhost/finch\?')
    finch.keys('BTab', 'Enter')         # Replace
    finch.wait(r'alice@localhost/finch \(XMPP\)\s*│(?!%s)%s'
               % (re.escape(mine.group(1)), FP_RX))
    tap.ok(True, 'Generate key: a new key, made in the background')
    finch.keys('Tab', 'Enter')          # Close
    finch.wait(r'┤OTR: my private keys├', gone=True)
    finch.keys('M-c')                   # close the configuration window
    finch.wait(r'My private keys\.\.\.', gone=True)

    # -- turned off in the plugin list: the core goes too; then on again --
    since = bob.mark()
    finch.keys('Tab', 'Space')          # Configure Plugin -> the list
    finch.wait(r'\[ \] Off-the-Record')
    finch.keys('M-c')                   # close the plugin list
    screen = finch.wait(r'┤bob@localhost(/e2e)? \(alice@localhost/finch -- '
                        r'XMPP\)├')
    tap.ok('OTR: ' not in screen, 'turned off: the window is plain again '
           '(status line and title)', screen)
    peer_told(bob, since)
    tap.ok(True, 'turned off: the core went too, and ended the private '
           'conversation (the peer is told)')
    open_plugins(finch)
    finch.keys('Space')
    finch.wait(r'\[X\] Off-the-Record')
    finch.keys('M-c')
    finch.wait(r'┤bob@localhost[^┐]*\| OTR: Not private├')
    finch.wait(r'OTR: Not private   \[alt')
    tap.ok(True, 'turned on again: the window shows the OTR level again')

    # -- quit: the plugins unload cleanly --
    finch.keys('M-q')
    status = finch.wait_exit()
    tap.ok(status == 0, 'Finch quits cleanly (exit status %s)' % status,
           finch.stderr()[-3000:])


def sanitized(path):
    """TRUE if PATH needs a sanitizer runtime (an --enable-asan build),
    which an uninstrumented Finch cannot load."""
    try:
        out = subprocess.run(['ldd', path], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b'libasan' in out or b'libubsan' in out


def main():
    tap = Tap()
    core, gnt = built_plugins()
    if TMUX is None or FINCH is None:
        tap.skip_all('tmux or finch is not installed')
    if not os.path.exists(gnt):
        tap.skip_all('the Finch plugin was not built (%s)' % gnt)
    if not Prosody.available():
        tap.skip_all('prosody is not installed')
    if os.environ.get('POTR_ASAN') or sanitized(gnt):
        tap.skip_all('plugins built with --enable-asan; Finch is not')
    tap.run('finch: OTR from the console, keys only', test_finch, timeout=100)
    tap.done()


if __name__ == '__main__':
    main()
