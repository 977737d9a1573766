"""The lesson chapters as a learner copies them out: only the cells they see, in a fresh Jupyter kernel, on the built-in digits.

A lesson chapter keeps its checks and nbdev's directives in hidden cells; a learner who copies the visible cells into a notebook of
their own must get a notebook that runs. (In a file of its own so that pytest-xdist can run it beside test_notebooks_kernel.py.)"""
import re
import nbformat, pytest
from test_notebooks_kernel import NOTEBOOKS, run_in_kernel

LESSONS = [p for p in NOTEBOOKS if re.match(r'0[1-5]_', p.name)]
HIDE, DIRECTIVE = re.compile(r'\s*#\|\s*hide\b'), re.compile(r'\s*#\|')

def visible_only(path, out):
    "A copy in folder `out` of the notebook at `path` holding what a learner sees: no `#| hide` cell, no `#|` line, no output."
    nb, cells = nbformat.read(path, as_version=4), []
    for c in nb.cells:
        if c.cell_type == 'markdown': cells.append(c)
        elif c.cell_type == 'code' and not HIDE.match(c.source):
            src = '\n'.join(l for l in c.source.splitlines() if not DIRECTIVE.match(l))
            if src.strip(): cells.append(nbformat.v4.new_code_cell(src))
    nb.cells = cells
    nbformat.write(nb, out/path.name)
    return out/path.name

@pytest.mark.parametrize('path', LESSONS, ids=lambda p: p.name)
def test_visible_cells_run_alone(path, tmp_path, monkeypatch):
    monkeypatch.delenv('LESSON2_DATA', raising=False)
    monkeypatch.setenv('TMPDIR', str(tmp_path))   # the chapter's work folder, which only a hidden cell removes
    run_in_kernel(visible_only(path, tmp_path))

def test_visible_only_leaves_out_hidden_cells(tmp_path):
    "A visible cell that needs a hidden one fails when the chapter is run as the learner sees it."
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('#| hide\nfrom math import tau'),
        nbformat.v4.new_code_cell('#| export\nx = 1'), nbformat.v4.new_code_cell('print(tau * x)')])
    nbformat.write(nb, tmp_path/'lesson.ipynb')
    (tmp_path/'out').mkdir()
    stripped = nbformat.read(visible_only(tmp_path/'lesson.ipynb', tmp_path/'out'), as_version=4)
    assert [c.source for c in stripped.cells] == ['x = 1', 'print(tau * x)']
    with pytest.raises(pytest.fail.Exception, match=r"failed in a real kernel at cell 1 [\s\S]*print\(tau \* x\)[\s\S]*NameError"):
        run_in_kernel(tmp_path/'out'/'lesson.ipynb')
