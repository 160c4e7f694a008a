# purple-otr - GPL-2.0-or-later (see COPYING)
# Checks of the translations (po/*.po), run by `make check` (TAP):
#
#   - po/purple-otr.pot is current: the sources are extracted again with the
#     options of po/Makevars and the messages compared (msgid, plural,
#     context, flags, TRANSLATORS comments; not the "#:" line numbers, which
#     move with every edit and change nothing for a translator);
#   - every po/*.po compiles with `msgfmt -c --check-accelerators=_`, is
#     complete (no untranslated, no fuzzy) and its completeness is printed;
#   - every {placeholder} of a msgid is in each of its msgstr forms;
#   - menu accelerators (_X) are unique within each menu or dialog (GROUPS);
#   - the glossary comment is at the top of each .po;
#   - Plural-Forms counts like the language's own rule (PLURAL_RULES).
#
# Every check runs over whatever po/*.po is present, so a language is checked
# as soon as its file is merged. The last part breaks a copy of one .po in
# each of these ways and asserts that the checks catch it (so they can fail).
#
# A translator can run it on one file:
#   /usr/bin/python3 tests/i18n/test-po.py po/LL.po
#
#   POTR_SRCDIR   the source tree (default: two folders up from here)

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get('POTR_SRCDIR') or os.path.normpath(os.path.join(HERE, '..', '..'))
PODIR = os.path.join(SRCDIR, 'po')

# Which strings with an accelerator are on screen at the same time, so that
# their keys must differ. Derived from the sources (the "#:" references of
# the .pot name them): one entry per menu, dialog or dialog page. A table of
# msgids rather than of line numbers, because msgids are settled while line
# numbers move; the checker fails when a string with an accelerator is in no
# group (a new menu item must be placed) or a group names a string the .pot
# no longer has, and it checks the English strings themselves against the
# table. GTK stock buttons (Cancel, Close) are translated by GTK, not here.
GROUPS = {
    # src/core/dialogs.c: the request of the peer (purple_request_fields)
    'core: answer a verification request': ['_Answer', 'A_bort'],
    'core: ask a question or a secret': ['_Verify', '_Cancel'],
    'core: compare fingerprints by hand': ['I have _verified it', 'It is _not verified',
                                           '_Cancel'],
    'core: how to verify': ['_Next', '_Cancel'],
    # src/pidgin/auth-dialog.c: one dialog; its pages are shown one at a time,
    # the "_Verify" button on every page. The page that asks shows the three
    # methods (radio buttons) above the fields of the method chosen.
    'pidgin auth: question': ['_Question and answer', 'S_hared secret',
                              '_Compare fingerprints by hand', 'Q_uestion:', 'A_nswer:',
                              '_Verify'],
    'pidgin auth: secret': ['_Question and answer', 'S_hared secret',
                            '_Compare fingerprints by hand', '_Secret:', '_Verify'],
    'pidgin auth: fingerprints': ['_Question and answer', 'S_hared secret',
                                  '_Compare fingerprints by hand', '_Verify'],
    'pidgin auth: answer': ['_Answer:', '_Verify'],
    'pidgin auth: outcome': ['_Verify buddy…'],
    # src/pidgin/conv-menu.c: the OTR menu of a conversation ("_OTR" is the
    # menu's own title, beside Pidgin's menus)
    'pidgin conversation menu': ['Start _private conversation', '_Refresh private conversation',
                                 '_End private conversation', '_Verify buddy…',
                                 '_Instance', '_What do the levels mean?'],
    'pidgin menu bar': ['_OTR'],
    # src/pidgin/buddy-menu.c with the policy radios of src/pidgin/prefs.c
    'pidgin buddy settings': ['Use the _default settings (%s)',
                              'Do not _log private conversations with this buddy',
                              '_Never: do not use OTR',
                              '_Manually: only when I start it from the OTR menu',
                              '_Automatically: whenever the buddy has OTR (recommended)',
                              'Al_ways: require it, never send a message in clear'],
    # src/pidgin/prefs.c: the notebook's tabs are visible with every page
    'pidgin preferences: settings': ['_Settings', 'My private _keys', 'Known _fingerprints',
                                     '_Never: do not use OTR',
                                     '_Manually: only when I start it from the OTR menu',
                                     '_Automatically: whenever the buddy has OTR (recommended)',
                                     'Al_ways: require it, never send a message in clear',
                                     'Do not _log private (OTR) conversations',
                                     '_Hide the length of private messages (pad them; a little '
                                     'more data)',
                                     'Tell the server when I _type in private conversations',
                                     'Show the OTR _button in conversation windows'],
    # src/pidgin/keys-page.c (one of the two labels of the button at a time)
    'pidgin preferences: keys': ['_Settings', 'My private _keys', 'Known _fingerprints',
                                 '_Account:', '_Generate'],
    'pidgin preferences: keys (replace)': ['_Settings', 'My private _keys',
                                           'Known _fingerprints', '_Account:',
                                           '_Replace with a new key'],
    'pidgin replace key dialog': ['_Replace'],
    # src/pidgin/fingerprints-page.c: its buttons (the English "_Start" shares
    # "S" with the "_Settings" tab, so the tabs are not in this group)
    'pidgin fingerprints page': ['_Start private conversation', '_End private conversation',
                                 '_Verify fingerprint…', '_Forget fingerprint'],
    'pidgin verify fingerprint dialog': ['I have _not verified it', 'I have _verified it'],
}

# Plural rules of languages with more than two forms, as functions of n,
# to compare with what a .po's Plural-Forms computes (0..1000).
PLURAL_RULES = {
    'ru': (3, lambda n: 0 if n % 10 == 1 and n % 100 != 11 else
           1 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 2),
    'uk': (3, lambda n: 0 if n % 10 == 1 and n % 100 != 11 else
           1 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 2),
    'pl': (3, lambda n: 0 if n == 1 else
           1 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 2),
    'cs': (3, lambda n: 0 if n == 1 else 1 if 2 <= n <= 4 else 2),
    'sk': (3, lambda n: 0 if n == 1 else 1 if 2 <= n <= 4 else 2),
    'ar': (6, lambda n: 0 if n == 0 else 1 if n == 1 else 2 if n == 2 else
           3 if 3 <= n % 100 <= 10 else 4 if n % 100 >= 11 else 5),
    'he': (2, lambda n: 0 if n == 1 else 1),
    'de': (2, lambda n: 0 if n == 1 else 1),
}

# Clashes of the English strings themselves that are let pass (none left):
# any English clash fails.
ENGLISH_CLASHES = set()

# Former English strings (new: old) and the groups where they clashed: the
# answer/abort buttons of the request (A), the question page's method and
# field (Q), the answer field and the button of the answering page (A).
OLD_ENGLISH = {'A_bort': '_Abort', 'Q_uestion:': '_Question:', '_Verify': '_Authenticate'}
OLD_CLASH_GROUPS = {'core: answer a verification request', 'pidgin auth: question',
                    'pidgin auth: answer'}

GLOSSARY_TERMS = ('private', 'unverified', 'fingerprint', 'verify', 'policy', 'key')
PLACEHOLDER = re.compile(r'\{[a-z_]+\}')
ACCEL = re.compile(r'_(\w)', re.UNICODE)


# ---- a small PO reader (enough for gettext's own output) ----

def _unquote(s):
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    out, i, body = [], 0, s[1:-1]
    esc = {'n': '\n', 't': '\t', '"': '"', '\\': '\\', 'r': '\r'}
    while i < len(body):
        c = body[i]
        if c == '\\' and i + 1 < len(body):
            out.append(esc.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def read_po(path):
    """Returns (header comment lines, entries); an entry is a dict with
    ctxt, id, plural, strs (list), flags (set), xcomments (list)."""
    entries, cur, key, head = [], None, None, []
    seen_entry = False

    def finish():
        if cur is not None and 'id' in cur:
            entries.append(cur)

    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('#~') or not line.strip():
                if not line.strip() and cur is not None and 'id' in cur:
                    finish()
                    cur, key = None, None
                continue
            if cur is None:
                cur = {'ctxt': None, 'plural': None, 'strs': [], 'flags': set(),
                       'xcomments': []}
            if line.startswith('#'):
                if not seen_entry:
                    head.append(line)
                if line.startswith('#,'):
                    cur['flags'] |= {f.strip() for f in line[2:].split(',')}
                elif line.startswith('#.'):
                    cur['xcomments'].append(line[2:].strip())
                continue
            seen_entry = True
            m = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
            if m:
                word, val = m.group(1), _unquote(m.group(3))
                if word == 'msgctxt':
                    key = 'ctxt'
                    cur['ctxt'] = val
                elif word == 'msgid':
                    key = 'id'
                    cur['id'] = val
                elif word == 'msgid_plural':
                    key = 'plural'
                    cur['plural'] = val
                else:
                    cur['strs'].append(val)
                    key = ('str', len(cur['strs']) - 1)
            elif line.startswith('"'):
                val = _unquote(line)
                if isinstance(key, tuple):
                    cur['strs'][key[1]] += val
                else:
                    cur[key] = (cur[key] or '') + val
            else:
                raise ValueError('%s: cannot read line %r' % (path, line))
    finish()
    return head, entries


def header_field(entries, name):
    for e in entries:
        if e['id'] == '' and e['ctxt'] is None:
            m = re.search(r'^%s:\s*(.*)$' % re.escape(name), e['strs'][0], re.M)
            return m.group(1).strip() if m else None
    return None


def messages(entries):
    return [e for e in entries if e['id'] != '']


# ---- C plural expressions (Plural-Forms) ----

def plural_function(expr):
    """Compiles the C expression of a Plural-Forms header into a function of
    n: a small recursive-descent parser, so nothing is eval'ed."""
    toks = re.findall(r'\d+|n|\|\||&&|==|!=|<=|>=|[()?:<>%*/+\-!]', expr)
    if ''.join(toks) != re.sub(r'\s+', '', expr):
        raise ValueError('cannot read plural expression %r' % expr)
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take(t=None):
        tok = peek()
        if t is not None and tok != t:
            raise ValueError('expected %r in %r' % (t, expr))
        pos[0] += 1
        return tok

    def ternary():
        c = binary(0)
        if peek() == '?':
            take('?')
            a = ternary()
            take(':')
            b = ternary()
            return lambda n: a(n) if c(n) else b(n)
        return c

    levels = [['||'], ['&&'], ['==', '!='], ['<', '>', '<=', '>='], ['+', '-'],
              ['*', '/', '%']]
    ops = {'||': lambda a, b: int(bool(a) or bool(b)), '&&': lambda a, b: int(bool(a) and bool(b)),
           '==': lambda a, b: int(a == b), '!=': lambda a, b: int(a != b),
           '<': lambda a, b: int(a < b), '>': lambda a, b: int(a > b),
           '<=': lambda a, b: int(a <= b), '>=': lambda a, b: int(a >= b),
           '+': lambda a, b: a + b, '-': lambda a, b: a - b, '*': lambda a, b: a * b,
           '/': lambda a, b: a // b, '%': lambda a, b: a % b}

    def binary(level):
        if level == len(levels):
            return unary()
        left = binary(level + 1)
        while peek() in levels[level]:
            op = ops[take()]
            right = binary(level + 1)
            left = (lambda l, r, o: lambda n: o(l(n), r(n)))(left, right, op)
        return left

    def unary():
        tok = take()
        if tok == '!':
            inner = unary()
            return lambda n: int(not inner(n))
        if tok == '(':
            inner = ternary()
            take(')')
            return inner
        if tok == 'n':
            return lambda n: n
        if tok is not None and tok.isdigit():
            return lambda n, v=int(tok): v
        raise ValueError('unexpected %r in %r' % (tok, expr))

    f = ternary()
    if peek() is not None:
        raise ValueError('trailing %r in %r' % (peek(), expr))
    return f


# ---- the checks: each returns a list of problems (empty: fine) ----

def lang_of(path):
    return os.path.splitext(os.path.basename(path))[0]


def check_msgfmt(path):
    """msgfmt -c with accelerators; returns (problems, statistics line)."""
    p = subprocess.run(['msgfmt', '-c', '--check-accelerators=_', '--statistics',
                        '-o', os.devnull, path], capture_output=True, text=True)
    stats = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''
    problems = [] if p.returncode == 0 else ['msgfmt -c failed:\n' + p.stderr.strip()]
    return problems, stats


def check_complete(path, pot):
    _, entries = read_po(path)
    want = {(e['ctxt'], e['id']) for e in messages(pot)}
    problems = []
    have = {}
    for e in messages(entries):
        have[(e['ctxt'], e['id'])] = e
    missing = [k for k in want if k not in have]
    fuzzy = [e['id'] for e in messages(entries) if 'fuzzy' in e['flags']]
    empty = [e['id'] for e in messages(entries) if any(s == '' for s in e['strs'])]
    for what, items in (('not in the file (run make update-po)', missing),
                        ('fuzzy', fuzzy), ('untranslated', empty)):
        if items:
            problems.append('%d %s, e.g. %r' % (len(items), what, sorted(map(str, items))[0]))
    for e in entries:
        if e['id'] == '' and 'fuzzy' in e['flags']:
            problems.append('the header is still marked fuzzy')
    done = len([k for k in want if k in have and 'fuzzy' not in have[k]['flags'] and
                all(have[k]['strs'])])
    return problems, done, len(want)


def check_placeholders(path):
    _, entries = read_po(path)
    problems = []
    for e in messages(entries):
        need = set(PLACEHOLDER.findall(e['id'])) | set(PLACEHOLDER.findall(e['plural'] or ''))
        for i, s in enumerate(e['strs']):
            if s == '':
                continue
            lost = need - set(PLACEHOLDER.findall(s))
            extra = set(PLACEHOLDER.findall(s)) - need
            if lost or extra:
                problems.append('%r, msgstr[%d]: %s' % (
                    e['id'][:60], i, ', '.join(['missing ' + x for x in sorted(lost)] +
                                               ['unknown ' + x for x in sorted(extra)])))
    return problems


def accel_key(text):
    m = ACCEL.search(text)
    return m.group(1).casefold() if m else None


def check_groups_against(pot):
    """The table itself: every string with an accelerator is in a group, every
    string of a group is in the .pot."""
    ids = {e['id'] for e in messages(pot)}
    grouped = {s for group in GROUPS.values() for s in group}
    problems = ['group %r names %r, which the .pot does not have' % (g, s)
                for g, group in sorted(GROUPS.items()) for s in group if s not in ids]
    problems += ['%r has an accelerator but is in no group of tests/i18n/test-po.py' % i
                 for i in sorted(ids) if accel_key(i) and i not in grouped]
    return problems


def check_accelerators(translate, allowed=()):
    """translate(msgid) -> the text shown (or None if not translated);
    allowed: (group, key) clashes to let pass."""
    problems = []
    for name, group in sorted(GROUPS.items()):
        seen = {}
        for msgid in group:
            text = translate(msgid)
            if not text:
                continue
            key = accel_key(text)
            if key is None:
                problems.append('%s: %r has no accelerator' % (name, text))
            elif key in seen and (name, key) not in allowed:
                problems.append('%s: "%s" and "%s" share the key %s' % (
                    name, seen[key], text, key))
            else:
                seen[key] = text
    return problems


def check_po_accelerators(path):
    _, entries = read_po(path)
    table = {e['id']: e['strs'][0] for e in messages(entries)
             if e['strs'] and 'fuzzy' not in e['flags']}
    return check_accelerators(table.get)


def check_glossary(path):
    head, _ = read_po(path)
    text = ' '.join(l.lstrip('#').strip() for l in head)
    if 'Glossary:' not in text:
        return ['no "# Glossary:" comment at the top of the file']
    gl = text.split('Glossary:', 1)[1]
    return ['the glossary does not define "%s"' % t for t in GLOSSARY_TERMS
            if not re.search(r'(^|[\s,;])%s\s*=' % re.escape(t), gl)]


# where the English says a glossary term (any form of it)
TERM_RX = {'private': r'\b[Pp]rivate', 'unverified': r'\b[Uu]nverified',
           'fingerprint': r'\b[Ff]ingerprint', 'verify': r'\b[Vv]erif',
           'policy': r'\b[Pp]olic', 'key': r'\b[Kk]eys?\b'}
LEVEL_NAMES = ('Not private', 'Unverified', 'Private', 'Finished')
QUOTES = '"\'„“”«»‚‘’「」'


def glossary(path, raw=False):
    """The glossary's entries, {English term: translation} (terms as
    written, so "Private" and "private" differ); raw: with what follows
    the translation in parentheses."""
    head, _ = read_po(path)
    text = ' '.join(l.lstrip('#').strip() for l in head)
    if 'Glossary:' not in text:
        return {}
    out = {}
    for part in re.split(r'[,;]', text.split('Glossary:', 1)[1]):
        if '=' in part:
            term, value = part.split('=', 1)
            if not raw:
                value = re.sub(r'\(.*', '', value)
            value = value.strip().rstrip('.').strip(QUOTES + ' ')
            out.setdefault(term.strip(), value)
    return out


def check_level_names(path):
    """The four level names are shown as the glossary says: the same
    short word in the status lines, the button and the menus."""
    terms = glossary(path)
    _, entries = read_po(path)
    table = {e['id']: e['strs'][0] for e in messages(entries) if e['strs']}
    return ['"%s" is translated "%s", the glossary says "%s"' % (n, table.get(n), terms[n])
            for n in LEVEL_NAMES if n in terms and table.get(n) and table[n] != terms[n]]


def glossary_report(path):
    """How many messages with a glossary term lack the term's translation
    (the beginning of one of its words, as languages inflect; other forms
    may follow in parentheses: "verify = לאמת (forms: אימות/מאומת)"):
    printed for the translator, not a failure (a sentence may rightly say
    it another way)."""
    terms = glossary(path, raw=True)
    _, entries = read_po(path)
    out = []
    for term in GLOSSARY_TERMS:
        value = terms.get(term, '')
        forms = re.search(r'\(forms:\s*([^)]*)', value)
        words = [w for w in re.split(r'[\s/]+', re.sub(r'\s*\(.*', '', value)) +
                 (re.split(r'[\s/]+', forms.group(1)) if forms else []) if w]
        if not words:
            continue
        stems = [w.casefold()[:max(3, -(-len(w) * 3 // 5))] for w in words]
        rx = re.compile(TERM_RX[term])
        # commands and their arguments stay English (/otr policy, FINGERPRINT)
        hits = [e for e in messages(entries)
                if rx.search(re.sub(r'/otr( [a-z]+)+', '', e['id'])) and e['strs'] and e['strs'][0]]
        lacking = [e['id'] for e in hits if not any(st in e['strs'][0].casefold() for st in stems)]
        out.append('%s "%s": %d/%d' % (term, re.sub(r'\s*\(.*', '', value),
                                        len(hits) - len(lacking), len(hits)))
    return '%s glossary use: %s' % (lang_of(path), '; '.join(out))


def check_plural_forms(path):
    _, entries = read_po(path)
    value = header_field(entries, 'Plural-Forms')
    if not value:
        return ['no Plural-Forms header']
    m = re.match(r'nplurals\s*=\s*(\d+)\s*;\s*plural\s*=\s*(.+?);?\s*$', value)
    if not m:
        return ['cannot read Plural-Forms %r' % value]
    nplurals, f = int(m.group(1)), plural_function(m.group(2))
    problems = []
    lang = lang_of(path)
    rule = PLURAL_RULES.get(lang) or PLURAL_RULES.get(lang.split('_')[0])
    if rule is not None:
        want_n, want_f = rule
        if nplurals != want_n:
            problems.append('nplurals=%d, the language has %d forms' % (nplurals, want_n))
        wrong = [n for n in range(0, 1001) if f(n) != want_f(n)]
        if wrong:
            problems.append('Plural-Forms picks form %d for n=%d, the language form %d' % (
                f(wrong[0]), wrong[0], want_f(wrong[0])))
    bad = [n for n in range(0, 1001) if not 0 <= f(n) < nplurals]
    if bad:
        problems.append('Plural-Forms gives %d for n=%d, out of 0..%d' % (
            f(bad[0]), bad[0], nplurals - 1))
    for e in messages(entries):
        if e['plural'] is not None and len(e['strs']) != nplurals:
            problems.append('%r has %d forms, nplurals is %d' % (
                e['id'][:50], len(e['strs']), nplurals))
    return problems


def check_linguas(files):
    with open(os.path.join(PODIR, 'LINGUAS'), encoding='utf-8') as f:
        listed = {w for l in f if not l.startswith('#') for w in l.split()}
    present = {lang_of(p) for p in files}
    return (['po/%s.po is not in po/LINGUAS' % l for l in sorted(present - listed)] +
            ['po/LINGUAS lists %s, but po/%s.po is not there' % (l, l)
             for l in sorted(listed - present)])


def makevars_options():
    with open(os.path.join(PODIR, 'Makevars'), encoding='utf-8') as f:
        text = f.read().replace('\\\n', ' ')
    m = re.search(r'^XGETTEXT_OPTIONS\s*=\s*(.*)$', text, re.M)
    return m.group(1).split() if m else []


def regenerate_pot(tmpdir):
    """Extracts the sources as po/Makefile does (xgettext, Makevars options,
    POTFILES.in); returns the path of the new template."""
    with open(os.path.join(PODIR, 'POTFILES.in'), encoding='utf-8') as f:
        files = [l.strip() for l in f if l.strip() and not l.startswith('#')]
    out = os.path.join(tmpdir, 'new.pot')
    cmd = (['xgettext', '--default-domain=purple-otr', '--add-comments=TRANSLATORS:',
            '--language=C', '--package-name=purple-otr', '-o', out] +
           makevars_options() + files)
    subprocess.run(cmd, cwd=SRCDIR, check=True, capture_output=True, text=True)
    return out


def message_key(e):
    return (e['ctxt'], e['id'], e['plural'], tuple(sorted(e['flags'] - {'fuzzy'})),
            tuple(e['xcomments']))


def check_pot_current(pot_path, new_path):
    _, old = read_po(pot_path)
    _, new = read_po(new_path)
    a = {message_key(e) for e in messages(old)}
    b = {message_key(e) for e in messages(new)}
    problems = ['in the sources, not in the .pot: %r' % (k[1],) for k in sorted(b - a, key=str)]
    problems += ['in the .pot, no longer in the sources (or changed): %r' % (k[1],)
                 for k in sorted(a - b, key=str)]
    if problems:
        problems.insert(0, 'po/purple-otr.pot is out of date: run `make update-po`')
    return problems


# ---- the checks over every .po ----

def check_one(path, pot):
    """All checks of one file: {check name: problems}, completeness line."""
    results = {}
    results['compiles with msgfmt -c'], stats = check_msgfmt(path)
    complete, done, total = check_complete(path, pot)
    results['complete (no untranslated, no fuzzy)'] = complete
    results['every {placeholder} kept'] = check_placeholders(path)
    results['accelerators unique in each menu and dialog'] = check_po_accelerators(path)
    results['glossary at the top'] = check_glossary(path)
    results['level names as the glossary says'] = check_level_names(path)
    results['Plural-Forms right for the language'] = check_plural_forms(path)
    pct = 100.0 * done / total if total else 0.0
    line = '%s: %d/%d translated (%.1f%%); msgfmt: %s' % (lang_of(path), done, total, pct, stats)
    return results, line


class Tap(object):
    def __init__(self):
        self.count = 0
        self.failed = 0

    def diag(self, text):
        for line in str(text).splitlines():
            print('# ' + line)

    def ok(self, cond, name, problems=()):
        self.count += 1
        print('%s %d - %s' % ('ok' if cond else 'not ok', self.count, name))
        if not cond:
            self.failed += 1
            for p in list(problems)[:15]:
                self.diag(p)
            if len(problems) > 15:
                self.diag('... and %d more' % (len(problems) - 15))
        sys.stdout.flush()


# Breaking a copy of a .po in one way each: the named check must then fail.
def _break_placeholder(text):
    return text.replace('{buddy}', '{kontakt}', 1) if '{buddy}' in text else None


def _break_fuzzy(text):
    return re.sub(r'\n(#: [^\n]*\n)(msgid "[^"])', r'\n\1#, fuzzy\n\2', text, count=1)


def _break_accelerator(text):
    # gives "_End private conversation" the key of "_Verify buddy…"
    m = re.search(r'msgid "_Verify buddy…"\nmsgstr "([^"]*)"', text)
    if not m or accel_key(m.group(1)) is None:
        return None
    key = ACCEL.search(m.group(1)).group(1)

    def swap(mm):
        s = mm.group(1).replace('_', '')
        i = s.casefold().find(key.casefold())
        s = ('_' + s) if i < 0 else s[:i] + '_' + s[i:]
        if i < 0:  # no such letter: take the letter itself
            s = '_' + key + s[1:]
        return 'msgid "_End private conversation"\nmsgstr "%s"' % s
    return re.sub(r'msgid "_End private conversation"\nmsgstr "([^"]*)"', swap, text, count=1)


def _break_glossary(text):
    return re.sub(r'(?m)^# *Glossary:.*\n(#  .*\n|# [a-z].*=.*\n)*', '', text, count=1)


def _break_plural(text):
    # (n > 1) is French's rule: it differs from every rule in PLURAL_RULES at 0
    return re.sub(r'plural=[^;\\]*', 'plural=(n > 1)', text, count=1)


def _break_untranslated(text):
    return re.sub(r'(msgid "Private"\nmsgstr )"[^"]*"', r'\1""', text, count=1)


def _break_format(text):
    # a %s of a c-format msgstr becomes %d: msgfmt -c refuses it
    return re.sub(r'(#, c-format\n(?:#.*\n)*msgid "[^"]*%s[^"]*"\nmsgstr "[^"%]*)%s', r'\1%d',
                  text, count=1)


def _break_level(text):
    return re.sub(r'(msgid "Finished"\nmsgstr ")', r'\1X', text, count=1)


BREAKS = [
    ('compiles with msgfmt -c', 'a %s turned into %d', _break_format),
    ('every {placeholder} kept', 'a {buddy} renamed', _break_placeholder),
    ('complete (no untranslated, no fuzzy)', 'a message marked fuzzy', _break_fuzzy),
    ('complete (no untranslated, no fuzzy)', '"Private" untranslated', _break_untranslated),
    ('accelerators unique in each menu and dialog', 'two items of the conversation menu '
     'on one key', _break_accelerator),
    ('glossary at the top', 'the glossary removed', _break_glossary),
    ('level names as the glossary says', '"Finished" not as in the glossary', _break_level),
    ('Plural-Forms right for the language', 'plural=(n > 1)', _break_plural),
]


def self_test(tap, sample, pot, tmpdir):
    """The checks fail on a broken copy of a good .po (sample)."""
    with open(sample, encoding='utf-8') as f:
        good = f.read()
    for check, what, breaker in BREAKS:
        broken = breaker(good)
        if broken is None or broken == good:
            tap.ok(False, 'self-test: %s: could not break %s' % (what, lang_of(sample)))
            continue
        path = os.path.join(tmpdir, os.path.basename(sample))
        with open(path, 'w', encoding='utf-8') as f:
            f.write(broken)
        results, _ = check_one(path, pot)
        tap.ok(results[check] != [], 'self-test: "%s" fails on %s with %s' % (
            check, lang_of(sample), what))
    # a string added to the sources makes the .pot out of date
    src = os.path.join(tmpdir, 'src')
    shutil.copytree(os.path.join(SRCDIR, 'src'), src)
    new = os.path.join(tmpdir, 'extra.pot')
    with open(os.path.join(src, 'core', 'commands.c'), 'a', encoding='utf-8') as f:
        f.write('\nstatic const char *potr_i18n_probe = N_("A string the template lacks");\n')
    files = [l.strip() for l in open(os.path.join(PODIR, 'POTFILES.in'), encoding='utf-8')
             if l.strip() and not l.startswith('#')]
    subprocess.run(['xgettext', '--language=C', '-o', new] + makevars_options() + files,
                   cwd=tmpdir, check=True, capture_output=True, text=True)
    tap.ok(check_pot_current(os.path.join(PODIR, 'purple-otr.pot'), new) != [],
           'self-test: "the .pot is current" fails when the sources have a new string')


def main(argv):
    tap = Tap()
    pot_path = os.path.join(PODIR, 'purple-otr.pot')
    for tool in ('msgfmt', 'xgettext'):
        if shutil.which(tool) is None:
            print('1..0 # SKIP %s is not installed (gettext)' % tool)
            return 0
    _, pot = read_po(pot_path)
    files = argv[1:] or sorted(glob.glob(os.path.join(PODIR, '*.po')))
    tmpdir = tempfile.mkdtemp(prefix='potr-i18n-')
    try:
        if len(argv) == 1:
            stale = check_pot_current(pot_path, regenerate_pot(tmpdir))
            tap.ok(stale == [], 'po/purple-otr.pot is current (regenerated and compared)',
                   stale)
            table = check_groups_against(pot)
            tap.ok(table == [], 'the accelerator groups cover every string with an '
                   'accelerator, and only strings of the .pot', table)
            listed = check_linguas(files)
            tap.ok(listed == [], 'po/LINGUAS lists every po/*.po and only those (make '
                   'update-po merges, make install installs, only what it lists)', listed)
            english = check_accelerators(lambda s: s, ENGLISH_CLASHES)
            tap.ok(english == [], 'the English accelerators are unique in each group '
                   '(but for %d known clashes)' % len(ENGLISH_CLASHES),
                   english)
            # the groups catch the clashes the English strings once had
            old = check_accelerators(lambda s: OLD_ENGLISH.get(s, s), ENGLISH_CLASHES)
            caught = {g for g in OLD_CLASH_GROUPS if any(p.startswith(g + ':') for p in old)}
            tap.ok(caught == OLD_CLASH_GROUPS, 'self-test: the English check fails on the '
                   'former strings (%s)' % ', '.join(sorted(OLD_ENGLISH.values())),
                   old or ['no clash found'])
        summary = []
        for path in files:
            results, line = check_one(path, pot)
            summary.append(line)
            tap.diag(line)
            tap.diag(glossary_report(path))
            for name, problems in results.items():
                tap.ok(problems == [], '%s: %s' % (lang_of(path), name), problems)
        if len(argv) == 1:
            good = [p for p in files if all(v == [] for v in check_one(p, pot)[0].values())]
            # German first: its strings are known to fit the breakers
            good.sort(key=lambda p: lang_of(p) != 'de')
            if good:
                self_test(tap, good[0], pot, tmpdir)
            else:
                tap.diag('no complete translation to break: the self-test is skipped')
        tap.diag('completeness of %d languages:' % len(files))
        for line in summary:
            tap.diag('  ' + line)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    print('1..%d' % tap.count)
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
