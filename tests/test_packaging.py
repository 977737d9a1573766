"""What `pip install lesson2_lib` means for a user: build the wheel, install it into a fresh venv with the pinned set, and
beside the newest fastai, fastcore and pandas a learner already has (.ci/constraints-latest.txt)."""
import json, os, subprocess, sys, urllib.request, venv, zipfile
from pathlib import Path
import pytest
from conftest import ROOT, BIN
from browser import free_port, served

def run(*cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f'{cmd} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    return r

@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    "The lesson2_lib wheel, built once for this module's tests."
    dist = tmp_path_factory.mktemp('dist')
    run(sys.executable, '-m', 'build', '--wheel', '--no-isolation', '--outdir', dist, ROOT, timeout=600)
    whl, = dist.glob('lesson2_lib-*.whl')
    return whl

def fresh_env(where):
    "A new venv at `where`: (python, bin folder, pip install command taking constraints and packages)."
    venv.create(where, with_pip=True)
    py = where/'bin'/'python'
    return py, where/'bin', [py, '-m', 'pip', 'install', '-q', '--disable-pip-version-check']

def layered_env(where):
    "A new venv at `where` that sees the project's environment (.venv, the pinned set) beneath its own site-packages."
    venv.create(where, with_pip=False)   # its own pip and setuptools would shadow the pinned ones; pip runs from beneath
    py, bin_, pip = where/'bin'/'python', where/'bin', [where/'bin'/'python', '-m', 'pip', 'install', '-q', '--disable-pip-version-check']
    site = lambda python: run(python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])').stdout.strip()
    (Path(site(py))/'pinned-set.pth').write_text(site(sys.executable) + '\n')   # a path line only: .venv's own .pth files (the editable install) are not read
    return py, bin_, pip

def test_wheel_installs_in_fresh_venv(wheel, tmp_path):
    """The wheel in a new venv over the pinned set: what it needs is declared and met, and it runs outside the repository.

    The pinned set itself is not installed again (6.7 GB, 4 minutes on a slow day): `make venv` has just resolved and installed
    these same requirements against .ci/constraints.txt, and `pip check` here proves they satisfy the wheel's metadata. A fresh
    install of everything, with no development packages, is test_wheel_beside_the_newest_fastai's."""
    names = zipfile.ZipFile(wheel).namelist()
    assert 'lesson2_lib/cli.py' in names and 'lesson2_lib/demo.py' in names
    assert not any(n.startswith(('nbs/', 'tests/')) for n in names)
    py, bin_, pip = layered_env(tmp_path/'env')
    run(*pip, '--no-deps', wheel, timeout=600)
    run(py, '-m', 'pip', 'check', '--disable-pip-version-check')
    pins = {l.split('==')[0].lower(): l.split('==')[1].strip() for l in (ROOT/'.ci'/'constraints.txt').read_text().splitlines() if '==' in l}
    have = installed(py)
    assert {p: v for p, v in have.items() if p in pins and pins[p] != v} == {}, 'the environment beneath is not the pinned set'
    where = run(py, '-c', 'import lesson2_lib, lesson2_lib.demo, lesson2_lib.cli; print(lesson2_lib.__version__, lesson2_lib.__file__)', cwd=tmp_path).stdout
    assert where.split()[1].startswith(str(tmp_path/'env')), f'lesson2_lib should come from the wheel, not the checkout: {where}'
    assert 'COMMAND' in run(bin_/'lesson2', '--help').stdout
    run(bin_/'lesson2', 'demo', '--help')
    # every stage from the wheel's modules; fine-tuning itself (the same train() as stage 3, with epochs) runs from the wheel in the
    # newest-releases test, and from the checkout in test_newcomer's default demo and 22_lesson
    r = run(bin_/'lesson2', 'demo', '--dest', tmp_path/'demo', '--epochs', '0', cwd=tmp_path, timeout=600)
    assert 'planted on purpose' in r.stdout and '[5] fine-tune: skipped' in r.stdout and '[6] deploy' in r.stdout

def installed(py)->dict:
    "Package name (lower case) -> version of everything installed in the venv of `py`, as pip reports it."
    return {p['name'].lower(): p['version'] for p in json.loads(run(py, '-m', 'pip', 'list', '--format=json', '--disable-pip-version-check').stdout)}

LEARNER = ('fastai', 'fastcore', 'pandas', 'torch', 'torchvision')   # what a Colab or Kaggle learner has before installing lesson2_lib
STACK = ('torch', 'torchvision', 'triton', 'nvidia-')   # PyTorch's build with its CUDA libraries: 5.3 of the 5.6 GB a fresh venv gets

def torch_stack(where:Path, wanted:dict)->dict:
    """Link into `where` the installed files of PyTorch's stack (`STACK`) from this environment, each dist only where `wanted` (name ->
    version) asks for the version installed here, and return {name: version} of what was linked: a venv given `where` on its path
    (a .pth line) has them installed as pip sees it, and pip installs anything else, or any other version, into the venv itself."""
    import importlib.metadata as md
    where.mkdir(parents=True)
    linked, tops = {}, set()
    for d in md.distributions():
        name = d.metadata['Name'].lower().replace('_', '-')
        if not name.startswith(STACK) or wanted.get(name) != d.version: continue
        linked[name] = d.version
        tops |= {f.parts[0] for f in d.files or [] if f.parts[0] != '..'}   # top-level folders and files, the dist-info among them
    site = Path(md.distribution('torch').locate_file(''))
    for top in sorted(tops):
        if (site/top).exists(): (where/top).symlink_to(site/top)
    return linked

def test_wheel_beside_the_newest_fastai(wheel, tmp_path):
    "A learner's venv with the newest fastai, fastcore and pandas: installing the wheel changes none of them, and the public path runs."
    latest = {l.split('==')[0].lower(): l.split('==')[1] for l in (ROOT/'.ci'/'constraints-latest.txt').read_text().splitlines() if '==' in l}
    py, bin_, pip = fresh_env(tmp_path/'env')
    # The newest PyTorch is the pinned one (today: torch 2.14.1, torchvision 0.29.1, their CUDA libraries): rather than unpack the same
    # 5.3 GB again (up to 280 s on a slow day), the venv sees this environment's copy of those dists, and only of those, from a folder
    # of links. Everything else (fastai, pandas, PyTorch's own light dependencies) comes fresh from the index with pip, into the venv.
    shared = torch_stack(tmp_path/'torch-stack', latest)
    (Path(run(py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])').stdout.strip())/'torch-stack.pth').write_text(f'{tmp_path/"torch-stack"}\n')
    run(*pip, '-c', ROOT/'.ci'/'constraints-latest.txt', *LEARNER, timeout=1800)
    before = installed(py)
    assert [before[p] for p in LEARNER] == [latest[p] for p in LEARNER]
    run(*pip, '-c', ROOT/'.ci'/'constraints-latest.txt', wheel, timeout=1800)
    after = installed(py)
    assert {p: (v, after.get(p)) for p, v in before.items() if after.get(p) != v} == {}, 'installing the wheel changed what the learner had'
    print(f'linked from the pinned set, the same versions: {shared}')
    smoke(bin_, tmp_path)

def smoke(bin_, tmp):
    "The public path, as commands: data, head and fine-tune, fastai's fine_tune, export, predict, clean with --apply and --undo, serve."
    lesson2 = lambda *a: run(bin_/'lesson2', *a, cwd=tmp, timeout=600, env={**os.environ, 'LESSON2_CACHE': str(tmp/'cache')})
    assert 'tested: yes, the newest releases' in lesson2('doctor').stdout
    run(bin_/'python', '-c', "from lesson2_lib.demo import demo_dataset; demo_dataset('digits', per_class=20)", cwd=tmp)
    lesson2('verify', 'digits')
    fits = {'tuned': ['--epochs', '1'], 'book': ['--fastai', '--epochs', '1']}
    got = {k: json.loads(lesson2('train', 'digits', '--out', k, '--size', '64', '--no-flip', '--seed', '0', '--json', *a).stdout) for k, a in fits.items()}
    pinned = {k: json.loads(run(BIN/'lesson2', 'train', 'digits', '--out', tmp/f'pinned-{k}', '--size', '64', '--no-flip', '--seed', '0', '--json', *a,
                                cwd=tmp, timeout=600, env={**os.environ, 'LESSON2_CACHE': str(tmp/'pinned-cache')}).stdout) for k, a in fits.items()}
    for k in fits:   # seeded: the same figures as the pinned set (they were equal when measured), within two pictures of 43
        assert abs(got[k]['valid_accuracy'] - pinned[k]['valid_accuracy']) <= 0.05, (k, got[k], pinned[k])
    assert got['tuned']['valid_accuracy'] > 0.6, got['tuned']
    book = got['book']
    lesson2('export', 'book/learner.pkl', '--out', 'portable')
    pic = sorted((tmp/'digits'/'three').iterdir())[0]
    assert json.loads(lesson2('predict', '--model', 'portable', pic, '--json').stdout)['label'] in book['classes']
    r = lesson2('clean', 'digits', '--model', 'tuned', '--json')
    assert 'Warning' not in r.stderr, r.stderr[-2000:]
    top = json.loads(r.stdout)['top'][0]['path']
    (tmp/'decisions.csv').write_text(f'path,choice\n{top},<Delete>\n')
    lesson2('clean', 'digits', '--apply', 'decisions.csv')
    assert not (tmp/'digits'/top).exists()
    lesson2('clean', 'digits', '--undo')
    assert (tmp/'digits'/top).exists()
    port = free_port()
    with served([str(bin_/'lesson2'), 'serve', '--model', str(tmp/'portable'), '--port', str(port)], f'http://127.0.0.1:{port}/healthz', tmp/'serve.log', 120):
        body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n' + pic.read_bytes() + b'\r\n--b--\r\n'
        req = urllib.request.Request(f'http://127.0.0.1:{port}/predict', data=body, headers={'Content-Type': 'multipart/form-data; boundary=b'})
        assert json.loads(urllib.request.urlopen(req, timeout=60).read())['label'] in book['classes']

def test_doctor_knows_the_sets_make_test_runs():
    "`lesson2 doctor` calls a combination tested only if it is one of the two constraint files this module installs."
    from lesson2_lib.cli import TESTED
    for (name, want), f in zip(TESTED.items(), ('constraints.txt', 'constraints-latest.txt')):
        pins = {l.split('==')[0].lower(): l.split('==')[1].strip() for l in (ROOT/'.ci'/f).read_text().splitlines() if '==' in l}
        assert {k: pins[k] for k in want} == want, (name, f)
