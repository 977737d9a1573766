"The `lesson2` console script as a user runs it."
import json, subprocess, sys
from conftest import lesson2

def test_help_and_version():
    r = lesson2('--help')
    assert r.returncode == 0 and 'demo' in r.stdout
    r = lesson2('--version')
    assert r.returncode == 0 and r.stdout.startswith('lesson2 ')

def test_every_subcommand_has_help():
    from lesson2_lib.cli import SUBCOMMANDS
    for name in SUBCOMMANDS:
        r = lesson2(name, '--help')
        assert r.returncode == 0 and r.stdout.startswith(f'usage: lesson2 {name}'), name

def test_cli_imports_nothing_heavy():
    code = "import sys, lesson2_lib.cli; print(sorted(m for m in ('torch', 'fastai', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'

# `lesson2 demo --json` is checked by nbs/23_cli.ipynb, its stages by nbs/22_lesson.ipynb, and `make demo`'s exact command by test_newcomer.py.

def test_bad_usage_is_one_line(tmp_path):
    (tmp_path/'x').mkdir(); (tmp_path/'x'/'dataset').mkdir(); (tmp_path/'x'/'dataset'/'mine.txt').write_text('keep me')
    r = lesson2('demo', '--dest', tmp_path/'x')
    assert r.returncode == 2 and r.stderr.startswith('lesson2 demo: error:') and 'Traceback' not in r.stderr
    assert (tmp_path/'x'/'dataset'/'mine.txt').read_text() == 'keep me'
    r = lesson2('demo', '--seed', 'abc')
    assert r.returncode == 2 and 'invalid int value' in r.stderr
