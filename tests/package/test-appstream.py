# purple-otr - GPL-2.0-or-later (see COPYING)
# The AppStream metadata of the Pidgin plugin (data/*.metainfo.xml), so that
# software centres list it: appstreamcli validates it (pedantic), it is an
# add-on, and the component it extends is the installed Pidgin's own
# AppStream id (a wrong id would hide the add-on from Pidgin's page).
# Skipped without appstreamcli, unless POTR_REQUIRE_PACKAGE_TEST=1 (CI).

import glob
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'e2e'))
from harness import Tap  # noqa: E402

METAINFO_DIRS = ('/usr/share/metainfo', '/usr/share/appdata')


def srcdir():
    return os.environ.get('POTR_SRCDIR') or os.path.dirname(os.path.dirname(HERE))


def pidgin_ids():
    """Component ids of the installed Pidgin's AppStream metadata."""
    ids = []
    for folder in METAINFO_DIRS:
        for path in glob.glob(os.path.join(folder, 'pidgin*.xml')):
            root = ET.parse(path).getroot()
            if root.get('type') == 'desktop-application':
                ids.append(root.findtext('id'))
    return ids


def test_metainfo(tap, path):
    res = subprocess.run(['appstreamcli', 'validate', '--pedantic', '--no-net',
                          '--no-color', path], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=60)
    out = res.stdout.decode('utf-8', 'replace')
    tap.ok(res.returncode == 0, 'appstreamcli validate --pedantic: %s'
           % os.path.basename(path), out)
    tap.ok('Validation was successful.' in out and 'pedantic:' not in out,
           'not even a pedantic remark', out)
    root = ET.parse(path).getroot()
    tap.is_(root.get('type'), 'addon', 'the component is an add-on')
    extends = [e.text for e in root.findall('extends')]
    ids = pidgin_ids()
    if ids:
        tap.ok(extends and set(extends) <= set(ids),
               'it extends the installed Pidgin (%s)' % ', '.join(ids),
               'extends %r' % extends)
    else:
        tap.skip('it extends the installed Pidgin', 'Pidgin is not installed')
    tap.ok(os.path.basename(path) == root.findtext('id') + '.metainfo.xml',
           'the file is named after its component id')


def main():
    tap = Tap()
    files = sorted(glob.glob(os.path.join(srcdir(), 'data', '*.metainfo.xml')))
    if shutil.which('appstreamcli') is None:
        if os.environ.get('POTR_REQUIRE_PACKAGE_TEST') == '1':
            tap.bail_out('appstreamcli is not installed')
        tap.skip_all('appstreamcli is not installed')
    tap.ok(files, 'the source tree has AppStream metadata (data/)')
    for path in files:
        test_metainfo(tap, path)
    tap.done()


if __name__ == '__main__':
    main()
