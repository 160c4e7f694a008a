# purple-otr - GPL-2.0-or-later (see COPYING)
# The README's demo (quick start, first command) still runs and still shows
# what it promises: a verified private conversation, and a server that saw
# and kept none of its words.

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Prosody, Tap  # noqa: E402


def test_demo(tap):
    demo = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'demo.py')
    run = subprocess.run([sys.executable, demo], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=150)
    out = run.stdout.decode('utf-8', 'replace')
    tap.is_(run.returncode, 0, 'the demo runs to the end')
    tap.ok('Both verified: the conversation is Private.' in out,
           'alice and bob verify each other', out[-2000:])
    tap.ok('Private words seen by the server: none' in out,
           'the server saw none of the private words')
    tap.ok('encrypted data' in out and 'key exchange 4/4' in out,
           'it lists what the server relayed')
    tap.ok('1 message(s) archived' in out and 'in clear' in out,
           'and that the archive holds only the message sent before OTR')


def main():
    tap = Tap()
    if not Prosody.available():
        tap.skip_all('prosody not installed')
    tap.run('the quick-start demo', test_demo, timeout=180)
    tap.done()


if __name__ == '__main__':
    main()
