# purple-otr - GPL-2.0-or-later (see COPYING)
# The core keeps its layers: no two modules of src/core include each other
# (through any chain: tools/include-cycles.py), and each module includes
# only what the layer table of README.md ("Architecture") allows it: the
# modules of the rows above its own and those its "May use" cell names
# ("everything" for the root; "... only" allows the named ones alone).
# Every module has one row, and a cell never names a module of a lower
# row. Then the same checks run on copies of the tree with an upward
# include added, and must fail there. TAP output.
#
# The source tree is POTR_SRCDIR (set by make check), else $srcdir, else
# the tree this script is in; it is only read (distcheck's is read-only).

import importlib.util
import os
import re
import shutil
import sys
import tempfile

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
src = os.environ.get('POTR_SRCDIR') or os.environ.get('srcdir') or here
# (automake's srcdir is the top source folder for tests of this Makefile)


def load_cycles_tool():
    path = os.path.join(src, 'tools', 'include-cycles.py')
    spec = importlib.util.spec_from_file_location('include_cycles', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def modules_of(folder):
    """Module name -> set of core modules its .c and .h include. A module
    is a .c file, or a header without one (store.h gathers the store's
    modules); potr.h, the public API every module may include, is none."""
    mods = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(('.c', '.h')) and name != 'potr.h':
            mods[name[:-2]] = set()
    for mod in mods:
        for ext in ('.c', '.h'):
            path = os.path.join(folder, mod + ext)
            if not os.path.exists(path):
                continue
            with open(path, encoding='utf-8') as f:
                for inc in re.findall(r'^\s*#\s*include\s+"([a-z0-9_-]+)\.h"', f.read(), re.M):
                    if inc != mod and inc in mods:
                        mods[mod].add(inc)
    return mods


def layer_table(readme):
    """Rows of the README's layer table: [(row number, module, may-use cell)]."""
    with open(readme, encoding='utf-8') as f:
        text = f.read()
    arch = text.split('\n## Architecture', 1)
    if len(arch) < 2:
        return []
    rows = []
    number = None
    in_table = False
    for line in arch[1].splitlines():
        if line.startswith('## '):
            break
        cells = [c.strip() for c in line.strip().strip('|').split('|')] if line.startswith('|') else None
        if cells is None:
            if in_table:
                break
            continue
        if cells[:2] == ['Layer', 'Module']:
            in_table = True
            continue
        if not in_table or set(''.join(cells)) <= set('-: '):
            continue
        if len(cells) < 4:
            continue
        m = re.match(r'(\d+)', cells[0])
        if m:
            number = int(m.group(1))
        name = re.findall(r'`([a-z0-9_-]+)`', cells[1])
        if number is None or len(name) != 1:
            continue
        rows.append((number, name[0], cells[-1]))
    return rows


def allowed(rows, mods):
    """Module -> set of modules it may include, from the table."""
    row_of = {name: number for number, name, _ in rows}
    out = {}
    for number, name, cell in rows:
        named = set(re.findall(r'`([a-z0-9_-]+)`', cell))
        if 'everything' in cell:
            out[name] = set(mods)
        elif re.search(r'\bonly\b', cell):
            out[name] = named & set(mods)
        else:
            out[name] = {m for m in mods if m in row_of and row_of[m] < number} | (named & set(mods))
    return out


def check(folder, readme, tool):
    """[(ok, description, [detail lines])] for the tree FOLDER and README."""
    results = []
    graph = tool.graph(folder)
    found = tool.cycles(graph)
    results.append((not found, 'no include cycle in src/core',
                    ['cycle: ' + ' '.join(c) for c in found]))

    mods = modules_of(folder)
    rows = layer_table(readme)
    row_of = {}
    details = []
    for number, name, _ in rows:
        if name in row_of:
            details.append('%s has two rows' % name)
        row_of[name] = number
    details += ['%s has no row in the layer table' % m for m in sorted(set(mods) - set(row_of))]
    details += ['the table names %s, which is no module' % m for m in sorted(set(row_of) - set(mods))]
    results.append((len(rows) > 0 and not details,
                    'the README layer table has one row per module (%d rows)' % len(rows), details))

    details = []
    for number, name, cell in rows:
        for named in re.findall(r'`([a-z0-9_-]+)`', cell):
            if named in row_of and row_of[named] > number:
                details.append('%s (row %d) may use %s of row %d, below it'
                               % (name, number, named, row_of[named]))
    results.append((not details, 'no "May use" cell names a module of a lower row', details))

    may = allowed(rows, mods)
    details = []
    for mod in sorted(mods):
        for inc in sorted(mods[mod] - may.get(mod, set())):
            details.append('%s includes %s.h, which its row does not allow' % (mod, inc))
    results.append((len(may) > 0 and not details,
                    'every module includes only what its row allows', details))
    return results


def self_test(tool, module, header):
    """Results of the checks on a copy of src/core where MODULE.c also
    includes HEADER."""
    tmp = tempfile.mkdtemp(prefix='potr-layers-')
    try:
        folder = os.path.join(tmp, 'core')
        shutil.copytree(os.path.join(src, 'src', 'core'), folder)
        path = os.path.join(folder, module + '.c')
        # (a copy of a read-only tree is read-only)
        os.chmod(folder, 0o755)
        if os.path.exists(path):
            os.chmod(path, 0o644)
        with open(path, 'a', encoding='utf-8') as f:
            f.write('\n#include "%s"\n' % header)
        return check(folder, os.path.join(src, 'README.md'), tool)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    tool = load_cycles_tool()
    results = check(os.path.join(src, 'src', 'core'), os.path.join(src, 'README.md'), tool)
    print('1..%d' % (len(results) + 2))
    status = 0
    for n, (ok, what, details) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', n, what))
        for line in details:
            print('# ' + line)
        status = status if ok else 1
    # an upward include that closes a cycle, and one that only breaks a row
    cycle = self_test(tool, 'ops', 'session.h')
    upward = self_test(tool, 'logging', 'smp.h')
    selfs = [(not cycle[0][0] and not cycle[3][0],
              'self-test: ops.c including session.h is a cycle and a breach of the layers'),
             (upward[0][0] and not upward[3][0],
              'self-test: logging.c including smp.h is a breach of the layers (no cycle)')]
    for n, (ok, what) in enumerate(selfs, len(results) + 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', n, what))
        status = status if ok else 1
    return status

if __name__ == '__main__':
    sys.exit(main())
