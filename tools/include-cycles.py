#!/usr/bin/env python3
# purple-otr - GPL-2.0-or-later
# Include graph of src/core: prints every cycle of modules that include one
# another (strongly connected components of more than one module) and the
# module count. Usage: tools/include-cycles.py [FOLDER]   (default src/core)
import os
import re
import sys


def graph(folder):
    mods = {}
    for name in os.listdir(folder):
        if name.endswith(('.c', '.h')):
            with open(os.path.join(folder, name)) as f:
                found = set(re.findall(r'#include "([a-z0-9_-]+)\.h"', f.read()))
            mods.setdefault(name[:-2], set()).update(found)
    return {m: {i for i in inc if i in mods and i not in (m, 'potr')} for m, inc in mods.items()}


def cycles(mods):
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(mods[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(mods):
        if v not in index:
            visit(v)
    return out


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else 'src/core'
    mods = graph(folder)
    found = cycles(mods)
    for comp in found:
        print('cycle of %d: %s' % (len(comp), ' '.join(comp)))
    print('modules: %d' % len([m for m in mods if os.path.exists(os.path.join(folder, m + '.c'))]))
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
