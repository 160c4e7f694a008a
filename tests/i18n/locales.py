# purple-otr - GPL-2.0-or-later (see COPYING)
# What the translation tests share: running a built plugin in a language
# before anything is installed, and reading what a .po says a string becomes.
#
#   env = LanguageEnv('de', 'de_DE.UTF-8')   # compiles po/de.po to a temp dir
#   Client(..., env=env.vars())               # the plugin now speaks German
#   env.gettext('Private')                    # -> 'Privat' (from po/de.po)
#   env.pattern('{buddy} wants ...')          # a regex of the translation
#
# The plugins bind their domain to the configured LOCALEDIR; the shim
# tests/i18n/localedir.c (LD_PRELOAD, built by `make check`) sends it to
# POTR_LOCALEDIR. The expected texts come from po/LL.po, never from here.

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location('pocheck', os.path.join(HERE, 'test-po.py'))
pocheck = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pocheck)


def builddir():
    return os.environ.get('POTR_BUILDDIR') or os.path.normpath(os.path.join(HERE, '..', '..',
                                                                            '_build'))


def srcdir():
    return os.environ.get('POTR_SRCDIR') or os.path.normpath(os.path.join(HERE, '..', '..'))


def shim_path():
    return os.path.join(builddir(), 'tests', 'i18n', '.libs', 'localedir.so')


def locale_available(name):
    """TRUE if glibc has the locale NAME (e.g. de_DE.UTF-8) generated."""
    try:
        out = subprocess.run(['locale', '-a'], capture_output=True, text=True,
                             timeout=30).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return False
    want = name.lower().replace('utf-8', 'utf8')
    return any(l.lower() == want for l in out)


def missing(lang, loc):
    """Why LANG cannot be tested here, or None."""
    if shutil.which('msgfmt') is None:
        return 'msgfmt (gettext) is not installed'
    if not os.path.exists(os.path.join(srcdir(), 'po', lang + '.po')):
        return 'po/%s.po is not there' % lang
    if not os.path.exists(shim_path()):
        return 'tests/i18n/localedir.so is not built'
    if not locale_available(loc):
        return 'the locale %s is not generated (tools/install-deps does it)' % loc
    return None


class LanguageEnv(object):
    """po/LANG.po compiled into a private locale folder, and the environment
    that makes a client of the built plugins speak LANG."""

    def __init__(self, lang, loc):
        self.lang, self.loc = lang, loc
        self.po = os.path.join(srcdir(), 'po', lang + '.po')
        self.dir = tempfile.mkdtemp(prefix='potr-locale-')
        mo_dir = os.path.join(self.dir, lang, 'LC_MESSAGES')
        os.makedirs(mo_dir)
        subprocess.run(['msgfmt', '-c', '-o', os.path.join(mo_dir, 'purple-otr.mo'), self.po],
                       check=True, timeout=60)
        _, entries = pocheck.read_po(self.po)
        self.table = {e['id']: e['strs'] for e in pocheck.messages(entries)
                      if 'fuzzy' not in e['flags'] and all(e['strs'])}

    def vars(self, preload=()):
        """Environment variables (a dict) for a client process."""
        pre = [shim_path()] + list(preload)
        old = os.environ.get('LD_PRELOAD')
        if old:
            pre.append(old)
        env = {}
        if os.environ.get('POTR_ASAN'):
            # an instrumented client wants its runtime first; the shim is
            # plain C and needs none
            env['ASAN_OPTIONS'] = (os.environ.get('ASAN_OPTIONS', 'detect_leaks=0') +
                                   ':verify_asan_link_order=0')
        return dict(env, **{'POTR_LOCALEDIR': self.dir, 'LD_PRELOAD': ':'.join(pre),
                'LANGUAGE': self.lang, 'LC_ALL': self.loc, 'LANG': self.loc,
                'PURPLE_CLIENT_LOCALE': '1'})

    def gettext(self, msgid, form=0):
        """The translation of MSGID in po/LANG.po (KeyError if it has none)."""
        return self.table[msgid][form]

    def pattern(self, msgid, form=0, fill=None):
        """A regex matching the translation of MSGID, its {placeholders},
        %s and %d standing for any text (or FILL[name] for {name})."""
        fill = fill or {}
        text = self.gettext(msgid, form)
        out, pos = [], 0
        for m in re.finditer(r'\{[a-z_]+\}|%(?:\d+\$)?[sdu]|%08x', text):
            out.append(re.escape(text[pos:m.start()]))
            name = m.group(0)[1:-1] if m.group(0).startswith('{') else None
            out.append(re.escape(fill[name]) if name in fill else '.+?')
            pos = m.end()
        out.append(re.escape(text[pos:]))
        return ''.join(out)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
