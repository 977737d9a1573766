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

# The time budget of `make test` (issue #38): `--budget SECONDS` fails the run, naming the slowest tests, when the tests
# together take longer; CI's limit is 90 minutes for everything, and a slow day has made the same tests 3.5x slower.
def pytest_addoption(parser):
    parser.addoption('--budget', type=float, default=None, metavar='SECONDS',
                     help='fail the run, naming the slowest tests, when all tests together take longer than this')

_TAKEN = {}   # test id -> seconds in setup, call and teardown

def pytest_sessionstart(session):
    import time
    session.config.stash[_START] = time.monotonic()

_START = pytest.StashKey[float]()

def pytest_runtest_logreport(report):
    _TAKEN[report.nodeid] = _TAKEN.get(report.nodeid, 0.0) + report.duration

def over_budget(took:float, budget:float|None, taken:dict, most:int=10)->list:
    "The lines that say a run went over its budget, with its `most` slowest tests; [] within it."
    if budget is None or took <= budget: return []
    slow = sorted(taken.items(), key=lambda kv: -kv[1])[:most]
    return [f'over budget: the tests took {took:.0f} s, the budget is {budget:.0f} s (make test); the slowest:',
            *(f'  {s:7.1f} s  {name}' for name, s in slow)]

def pytest_sessionfinish(session, exitstatus):
    import time
    lines = over_budget(time.monotonic() - session.config.stash[_START], session.config.getoption('--budget'), _TAKEN)
    if not lines: return
    tr = session.config.pluginmanager.get_plugin('terminalreporter')
    for line in lines: tr.write_line(line, red=True, bold=line is lines[0]) if tr else print(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED

# `make test` runs these files on two pytest-xdist workers (`-n 2 --dist loadgroup --no-loadscope-reorder`). Each group (a file, or
# the files of SAME_WORKER) is kept whole on one worker, so that its module fixtures (a server, a venv, a wheel) are made once and its
# tests run in their order; the groups go out longest first, so that the two workers end together. The grouping is this conftest's
# scheduler (`pytest_xdist_make_scheduler`), not xdist_group marks: xdist 3.8 names a marked test's group by rewriting its nodeid,
# which pytest 9.2 no longer reads (pytest-dev/pytest-xdist#1386), so the marks silently sent every test out on its own.
# FILE_SECONDS: each file's time on a fresh clone (2026-12-03, one worker, a quiet 2-core machine).
FILE_SECONDS = {'test_notebooks_kernel.py': 690, 'test_packaging.py': 250, 'test_newcomer.py': 235, 'test_app.py': 135,
                'test_static.py': 125, 'test_browser_clean.py': 105, 'test_space.py': 80, 'test_train.py': 67, 'test_lab.py': 45,
                'test_download.py': 35, 'test_docs.py': 25, 'test_voila.py': 15,
                'test_book_fine_tune.py': 90, 'test_visible_cells.py': 700, 'test_scale.py': 135}
# Files that must not run beside each other: the lesson chapters serve their pictures on one port (sources.LESSON_PORT), and a
# chapter that finds it taken serves on another, which renames the pictures and so changes the random split its figures come from.
SAME_WORKER = {'test_lab.py': 'test_notebooks_kernel.py', 'test_visible_cells.py': 'test_notebooks_kernel.py'}

def group_of(path:Path)->str: return SAME_WORKER.get(path.name, path.name)

def pytest_collection_modifyitems(session, config, items):
    cost = {}
    for it in items: cost[group_of(it.path)] = cost.get(group_of(it.path), 0) + FILE_SECONDS.get(it.path.name, 0)
    items.sort(key=lambda it: -cost[group_of(it.path)])   # stable: each file's tests keep their order

@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    "Under `--dist loadgroup`, one unit of work per group of `group_of`, handed out in collection order (longest first, above)."
    if config.getvalue('dist') != 'loadgroup': return None
    from xdist.scheduler import LoadScopeScheduling
    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid:str)->str: return group_of(Path(nodeid.split('::')[0]))
    return ByGroup(config, log)

@pytest.fixture(scope='session')
def default_model(tmp_path_factory, request):
    """A model made once by the default `lesson2 train`, for the tests that only need one: (export folder, training data, photos
    of each class it did not train on). The bears when ../shared has them (asked about the full-size originals), else the demo digits."""
    if hasattr(request.config, 'workerinput'):   # a pytest-xdist worker: the first worker to ask trains it, in the run's shared temporary folder
        from filelock import FileLock
        root = tmp_path_factory.getbasetemp().parent
        with FileLock(root/'default-model.lock'):
            if not (root/'default-model'/'done').is_file():
                made = _default_model(root/'default-model')
                (root/'default-model'/'done').write_text('\n'.join(map(str, made)))
            return tuple(Path(p) for p in (root/'default-model'/'done').read_text().splitlines())
    return _default_model(tmp_path_factory.mktemp('default-model'))

def _default_model(tmp:Path)->tuple:
    tmp.mkdir(parents=True, exist_ok=True)
    if (SHARED/'datasets'/'bears').is_dir(): data, held = SHARED/'datasets'/'bears', SHARED/'datasets'/'bears-full'
    else:
        from lesson2_lib.demo import demo_dataset
        demo_dataset(tmp/'digits', per_class=40); data = held = tmp/'digits'
        lesson2('verify', data)
    run = lesson2('train', data, '--out', tmp/'model', cwd=tmp)
    assert run.returncode == 0, run.stderr
    return tmp/'model', data, held
