from pathlib import Path
import shutil, subprocess, sys
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent/'shared'
BIN = Path(sys.executable).parent

def shared_dataset(name):
    "Path of a dataset in ../shared/datasets, or skip the test with a clear reason."
    p = SHARED/'datasets'/name
    if not p.is_dir(): pytest.skip(f'../shared/datasets/{name} is absent (it exists only beside the development checkout)')
    return p

def lesson2(*args, cwd=None, timeout=600, env=None):
    "Run the installed `lesson2` console script (extra `env` variables added); return the CompletedProcess."
    import os
    exe = shutil.which('lesson2', path=str(BIN)) or 'lesson2'
    return subprocess.run([exe, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
