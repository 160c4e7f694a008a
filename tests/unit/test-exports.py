# purple-otr - GPL-2.0-or-later (see COPYING)
# The core's private library exports exactly the functions that potr.h
# declares with POTR_API: no internal function has become ABI, and no
# public one is missing. Reads the built library's dynamic symbol table
# (nm -D) and the header; TAP output.
#
# POTR_EXPORTS_LIB and POTR_EXPORTS_HEADER name another library or header
# (to check the check itself).

import os
import re
import subprocess
import sys

build = os.environ.get('POTR_BUILDDIR', os.getcwd())
src = os.environ.get('POTR_SRCDIR', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
lib = os.environ.get('POTR_EXPORTS_LIB',
                     os.path.join(build, 'src', 'core', '.libs', 'libpurple-otr-core.so'))
header = os.environ.get('POTR_EXPORTS_HEADER', os.path.join(src, 'src', 'core', 'potr.h'))

# symbols the toolchain itself puts into every shared object
TOOLCHAIN = {'_init', '_fini'}


def header_functions(path):
    """Names of the functions declared POTR_API in PATH."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    return set(re.findall(r'^POTR_API\b[^(;]*?\b([A-Za-z_][A-Za-z0-9_]*)\s*\(', text, re.M))


def exported_functions(path):
    """Names of the functions PATH exports (defined, global, text)."""
    out = subprocess.run(['nm', '-D', '--defined-only', path], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in ('T', 'W', 'i'):
            names.add(parts[2].split('@')[0])
    return names - TOOLCHAIN


def main():
    declared = header_functions(header)
    exported = exported_functions(lib)
    print('1..3')
    ok = len(declared) > 0
    print('%s 1 - potr.h declares POTR_API functions (%d)' % ('ok' if ok else 'not ok', len(declared)))
    extra = sorted(exported - declared)
    print('%s 2 - nothing beyond potr.h is exported (%d exported)'
          % ('ok' if not extra else 'not ok', len(exported)))
    for name in extra:
        print('# exported, not in potr.h: %s' % name)
    missing = sorted(declared - exported)
    print('%s 3 - every potr.h function is exported' % ('ok' if not missing else 'not ok'))
    for name in missing:
        print('# in potr.h, not exported: %s' % name)
    return 0 if ok and not extra and not missing else 1


if __name__ == '__main__':
    sys.exit(main())
