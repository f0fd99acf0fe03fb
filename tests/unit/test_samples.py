"""The committed samples in etc/ are what the code generates today.

A new or changed option or policy fails here until its sample is
regenerated (``tox -e genconfig``, ``tox -e genpolicy``).
"""

import configparser
import glob
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
CONFIG_GENERATORS = sorted(glob.glob(os.path.join(REPO, 'tools', 'config',
                                                  '*.conf')))
POLICY_NAMESPACES = ('nova_volmig', 'cinder_volmig')


def _output_file(generator_conf):
    # The generator's own file: oslo.config repeats keys (namespace),
    # which configparser would refuse.
    parser = configparser.ConfigParser(strict=False)
    parser.read(generator_conf)
    return parser['DEFAULT']['output_file']


def _assert_same(committed, generated, command):
    with open(os.path.join(REPO, committed)) as f:
        old = f.read()
    with open(generated) as f:
        new = f.read()
    assert old == new, '%s is stale: run %s' % (committed, command)


def test_every_generator_has_a_sample():
    assert CONFIG_GENERATORS
    for conf in CONFIG_GENERATORS:
        assert os.path.exists(os.path.join(REPO, _output_file(conf))), conf


@pytest.mark.parametrize('conf', CONFIG_GENERATORS,
                         ids=[os.path.basename(c) for c in CONFIG_GENERATORS])
def test_config_sample(conf, tmp_path):
    generated = str(tmp_path / 'sample.conf')
    subprocess.run([os.path.join(BIN, 'oslo-config-generator'),
                    '--config-file', conf, '--output-file', generated],
                   cwd=REPO, check=True, capture_output=True)
    _assert_same(_output_file(conf), generated, 'tox -e genconfig')


@pytest.mark.parametrize('namespace', POLICY_NAMESPACES)
def test_policy_sample(namespace, tmp_path):
    generated = str(tmp_path / 'policy.yaml')
    subprocess.run([os.path.join(BIN, 'oslopolicy-sample-generator'),
                    '--namespace', namespace, '--output-file', generated],
                   cwd=REPO, check=True, capture_output=True)
    _assert_same(os.path.join('etc', namespace, 'policy.yaml.sample'),
                 generated, 'tox -e genpolicy')
