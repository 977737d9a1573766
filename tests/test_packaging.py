"What `pip install lesson2_lib` means for a user: build the wheel, install it into a fresh venv with the pinned set."
import subprocess, sys, venv, zipfile
from conftest import ROOT

def run(*cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f'{cmd} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    return r

def test_wheel_installs_in_fresh_venv(tmp_path):
    run(sys.executable, '-m', 'build', '--wheel', '--no-isolation', '--outdir', tmp_path/'dist', ROOT, timeout=600)
    wheel, = (tmp_path/'dist').glob('lesson2_lib-*.whl')
    names = zipfile.ZipFile(wheel).namelist()
    assert 'lesson2_lib/cli.py' in names and 'lesson2_lib/demo.py' in names
    assert not any(n.startswith(('nbs/', 'tests/')) for n in names)
    venv.create(tmp_path/'env', with_pip=True)
    py, bin_ = tmp_path/'env'/'bin'/'python', tmp_path/'env'/'bin'
    run(py, '-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-c', ROOT/'.ci'/'constraints.txt', wheel, timeout=1800)
    assert 'COMMAND' in run(bin_/'lesson2', '--help').stdout
    run(bin_/'lesson2', 'demo', '--help')
    run(py, '-c', 'import lesson2_lib, lesson2_lib.demo, lesson2_lib.cli; print(lesson2_lib.__version__)', cwd=tmp_path)
    r = run(bin_/'lesson2', 'demo', '--dest', tmp_path/'demo', '--epochs', '1', cwd=tmp_path, timeout=600)
    assert 'planted on purpose' in r.stdout and '[5] fine-tune: all but the earliest layers, 1 epoch' in r.stdout and '[6] deploy' in r.stdout
