"The budget of `make test`: a run over it fails and names its slowest tests."
import os, subprocess, sys
from conftest import ROOT, over_budget

def test_within_budget_says_nothing():
    assert over_budget(100, 1200, {'a': 60.0}) == [] and over_budget(5000, None, {'a': 60.0}) == []

def test_over_budget_names_the_slowest_first():
    lines = over_budget(1300.4, 1200, {'fast': 1.0, 'slowest': 900.0, 'middle': 300.0}, most=2)
    assert lines[0] == 'over budget: the tests took 1300 s, the budget is 1200 s (make test); the slowest:'
    assert [l.split()[-1] for l in lines[1:]] == ['slowest', 'middle']

def test_a_run_over_its_budget_fails(tmp_path):
    "A real pytest run of one slow test under a budget of 0.2 s exits 1 and names the test; without the budget it passes."
    (tmp_path/'test_slow.py').write_text('import time\ndef test_sleeps(): time.sleep(0.5)\n')
    (tmp_path/'pytest.ini').write_text('[pytest]\n')
    env = {**os.environ, 'PYTHONPATH': str(ROOT/'tests')}   # this suite's conftest, loaded as a plugin
    run = lambda *a: subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-p', 'conftest', *a],
                                    capture_output=True, text=True, cwd=tmp_path, env=env)
    over, within = run('--budget', '0.2'), run('--budget', '60')
    assert over.returncode == 1 and 'over budget' in over.stdout and 'test_slow.py::test_sleeps' in over.stdout, over.stdout
    assert within.returncode == 0, within.stdout

def test_each_file_runs_whole_on_one_worker(tmp_path):
    """A real `make test`-style run (`-n 2 --dist loadgroup`) over five small files, each test noting its worker: every file's tests
    run on one worker and in order, and the files that share the lesson chapters' port (SAME_WORKER) share a worker."""
    names = ['test_notebooks_kernel.py', 'test_lab.py', 'test_visible_cells.py', 'test_one.py', 'test_two.py']
    for name in names:
        (tmp_path/name).write_text(''.join(f"def test_{i}():\n    import os\n    with open('runs.txt', 'a') as f: f.write(os.environ['PYTEST_XDIST_WORKER'] + ' {name} {i}\\n')\n"
                                           for i in range(4)))
    (tmp_path/'pytest.ini').write_text('[pytest]\n')
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-p', 'conftest', '-n', '2', '--dist', 'loadgroup',
                        '--no-loadscope-reorder'], capture_output=True, text=True, cwd=tmp_path, env={**os.environ, 'PYTHONPATH': str(ROOT/'tests')})
    assert r.returncode == 0, r.stdout + r.stderr
    runs = [l.split() for l in (tmp_path/'runs.txt').read_text().splitlines()]
    assert len(runs) == 20
    worker = {name: {w for w, n, _ in runs if n == name} for name in names}
    assert all(len(ws) == 1 for ws in worker.values()), worker
    assert worker['test_lab.py'] == worker['test_visible_cells.py'] == worker['test_notebooks_kernel.py'], worker
    assert len(set.union(*worker.values())) == 2, worker   # and both workers had work: the grouping is not everything on one
    for name in names: assert [int(i) for _, n, i in runs if n == name] == [0, 1, 2, 3], runs
