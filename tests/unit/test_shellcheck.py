"""Every shell script of the project is shellcheck-clean."""

import glob
import os
import shutil
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PATTERNS = ('devstack/*.sh', 'devstack/settings', 'tools/*.sh', '.ci/run',
            'tests/functional/devstack/functions')


def test_shellcheck():
    shellcheck = shutil.which('shellcheck')
    assert shellcheck, 'shellcheck missing: tools/install.sh test installs it'
    scripts = sorted(path for pattern in PATTERNS
                     for path in glob.glob(os.path.join(REPO, pattern)))
    assert scripts
    # -x follows "source" into other files of the tree.
    result = subprocess.run([shellcheck, '-x', *scripts], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
