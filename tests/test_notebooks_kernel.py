"""Run every notebook top to bottom in a real Jupyter kernel, as JupyterLab does.

nbdev_test runs cells in an in-process IPython shell; a real kernel differs (it runs an event
loop, has widget comms and a display), so each notebook is also run here through nbclient
with the `python3` kernel of this environment. Cells nbdev_test skips are skipped here too."""
import sys
import nbformat, pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from conftest import ROOT

sys.path.insert(0, str(ROOT/'.ci'))
from docs import runs   # which cells nbdev_test runs (its tst_flags, eval: false, the export call): the same rule as `make docs`

NOTEBOOKS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

CELL_TIMEOUT = 300   # seconds for one cell: the slowest cell of these notebooks takes under a minute on a busy machine

class Watching(NotebookClient):
    "A NotebookClient that remembers which cells the kernel reported finished (status idle on IOPub)."
    def process_message(self, msg, cell, cell_index):
        if msg['msg_type'] == 'status' and msg['content'].get('execution_state') == 'idle': self.idle_seen.add(cell_index)
        return super().process_message(msg, cell, cell_index)
    async def _async_handle_timeout(self, timeout, cell=None):
        self.idle_at_timeout = set(self.idle_seen)   # what the kernel had said when time ran out (not while it is shut down)
        return await super()._async_handle_timeout(timeout, cell)

def run_in_kernel(path, timeout:int=CELL_TIMEOUT, then:str|None=None):
    "Execute the notebook at `path` in a fresh `python3` kernel, and the code `then` after its last cell; fail naming the cell that raised or hung."
    nb = nbformat.read(path, as_version=4)
    if then: nb.cells.insert(len(nb.cells) - 1, nbformat.v4.new_code_cell(then))   # before the cell that removes the work folder
    numbers = [i for i, c in enumerate(nb.cells) if runs(c)]
    nb.cells = [nb.cells[i] for i in numbers]
    client = Watching(nb, kernel_name='python3', timeout=timeout, resources={'metadata': {'path': str(path.parent)}})
    client.idle_seen, started = set(), []
    client.on_cell_start = lambda cell, cell_index, **kw: started.append(cell_index)
    where = lambda i: f'cell {numbers[i]} (counting from 0, markdown included):\n{nb.cells[i].source}'
    try: client.execute()
    except CellTimeoutError as e:
        i = started[-1]
        lost = ('the kernel reported the cell finished (status idle) but its execute_reply never came' if i in client.idle_at_timeout
                else 'the kernel never reported the cell finished')
        pytest.fail(f'{path.name} hung in a real kernel: no reply in {timeout} s at {where(i)}\n({lost})\n\n{e}', pytrace=False)
    except CellExecutionError as e:
        failed = next((i for i, c in enumerate(nb.cells) if any(o.get('output_type') == 'error' for o in c.get('outputs', []))), None)
        pytest.fail(f'{path.name} failed in a real kernel at {where(failed) if failed is not None else "unknown cell"}\n\n{e}', pytrace=False)

# The longest notebooks run in a real kernel only with `pytest -m slow`: nbdev_test runs them in every `make test`, they use
# no widget comms or event loop of their own that nbdev_test's shell lacks (22_lesson's and 23_cli's demos, 17_train), and 18_clean's
# widgets are exercised in real JupyterLab by test_browser_clean.py. The lesson chapters run in a real kernel as the learner sees them
# (their visible cells alone, on the digits: test_visible_cells.py) and 01 to 04 here on full-size photos with their hidden checks;
# nbdev_test runs them whole on the digits. The rest (downloads inside the kernel's event loop, the in-notebook app's widgets) run here whole every time.
HEAVY = {'01_data.ipynb', '02_train.ipynb', '03_clean.ipynb', '04_deploy.ipynb', '05_sgd.ipynb',
         '17_train.ipynb', '18_clean.ipynb', '22_lesson.ipynb', '23_cli.ipynb'}
CASES = [pytest.param(p, marks=pytest.mark.slow) if p.name in HEAVY else p for p in NOTEBOOKS]

@pytest.mark.parametrize('path', CASES, ids=lambda p: p.name)
def test_notebook_runs_in_real_kernel(path): run_in_kernel(path)

def test_failure_names_the_cell(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('# t'), nbformat.v4.new_code_cell('x = 1'),
        nbformat.v4.new_code_cell('#| eval: false\nraise ValueError("skipped")'), nbformat.v4.new_code_cell('assert x == 2, "boom"')])
    nbformat.write(nb, tmp_path/'bad.ipynb')
    with pytest.raises(pytest.fail.Exception, match=r'bad.ipynb failed in a real kernel at cell 3 [\s\S]*boom'):
        run_in_kernel(tmp_path/'bad.ipynb')

def test_a_hung_cell_is_named_within_its_timeout(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1'), nbformat.v4.new_code_cell('import time\ntime.sleep(60)')])
    nbformat.write(nb, tmp_path/'slow.ipynb')
    with pytest.raises(pytest.fail.Exception, match=r'slow.ipynb hung in a real kernel: no reply in 3 s at cell 1 [\s\S]*never reported the cell finished'):
        run_in_kernel(tmp_path/'slow.ipynb', timeout=3)

# The lesson chapters, each reading LESSON2_DATA in its first code line: on real full-size web photos, as a learner runs them.
# The last one predicts every validation picture with the deployed model; on these photos it must get at least 95 % right.
ON_PHOTOS = {'01_data.ipynb': None, '03_clean.ipynb': None,
             '02_train.ipynb': "assert [v.split(':')[0].replace(' at first', '') for v in runs.values()] == "
                               "['learning rate too high', 'learning rate too low', 'too few epochs', 'looks healthy'], runs",
             '04_deploy.ipynb': "assert lesson_settings(data)['size'] == 224 and accuracy >= 0.95, (data, accuracy)"}

@pytest.mark.parametrize('name', ON_PHOTOS)
def test_lesson_chapter_on_full_size_photos(name, monkeypatch):
    from conftest import shared_dataset
    monkeypatch.setenv('LESSON2_DATA', str(shared_dataset('bears-full')))
    run_in_kernel(ROOT/'nbs'/name, then=ON_PHOTOS[name])

