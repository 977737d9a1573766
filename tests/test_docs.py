"""The notebooks as a course: stored outputs, and the rendered site in Chromium.

`make docs` runs every notebook and saves its outputs in nbs/ (too slow for every `make test`: about 10 minutes); these
tests check what it left in the repository, render the pages from it with `.ci/docs.py render` (seconds), serve them on
127.0.0.1 and open every page in Debian's Chromium."""
import ast, json, re, subprocess, sys
import nbformat
import pytest
from conftest import ROOT
from browser import chromium_page, free_port, served

sys.path.insert(0, str(ROOT/'.ci'))
import docs

PICTURE = ('image/png', 'image/jpeg')

def pictures(nb:dict, visible_only:bool=True)->int:
    "Picture outputs of the notebook's cells (only those its page shows when `visible_only`)."
    n = 0
    for c in nb['cells']:
        if c['cell_type'] != 'code' or (visible_only and 'hide' in docs.directives(''.join(c['source']))): continue
        n += sum(any(k in o.get('data', {}) for k in PICTURE) for o in c.get('outputs', []))
    return n

def _is_test(st)->bool:
    if isinstance(st, ast.Assert): return True
    return isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Name) and st.value.func.id.startswith('test_')

def shown_code_cells(nb:dict)->list:
    "The code cells a page shows: not hidden, not exported library code."
    out = []
    for c in nb['cells']:
        src = ''.join(c['source']) if c['cell_type'] == 'code' else ''
        d = docs.directives(src)
        if c['cell_type'] == 'code' and not d.keys() & {'hide', 'export', 'exports', 'exporti'} and 'nbdev_export(' not in src: out.append(src)
    return out

def bare_test(src:str)->bool:
    "A cell whose every statement is a test (test_eq, test_fail, assert ...)."
    try: body = ast.parse(src).body
    except SyntaxError: return False
    return bool(body) and all(map(_is_test, body))

NOTEBOOKS = {p.name: json.loads(p.read_text()) for p in docs.notebooks()}

def test_every_notebook_keeps_its_outputs():
    missing = [n for n, nb in NOTEBOOKS.items() if not any(c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code')]
    assert not missing, f'no stored outputs in {missing}: run `make docs` and commit the notebooks'
    total = sum(pictures(nb, visible_only=False) for nb in NOTEBOOKS.values())
    assert total >= 15, f'only {total} pictures stored in all the notebooks'
    size = sum((ROOT/'nbs'/n).stat().st_size for n in NOTEBOOKS)
    assert size < 15e6, f'the notebooks take {size / 1e6:.1f} MB with their outputs (ceiling 15 MB)'
    widgets = [n for n, nb in NOTEBOOKS.items() if 'widgets' in nb.get('metadata', {}) or
               any(docs.WIDGET in o.get('data', {}) for c in nb['cells'] for o in c.get('outputs', []))]
    assert not widgets, f'widget state saved in {widgets}'

def test_few_visible_cells_are_bare_tests():
    shown = [s for nb in NOTEBOOKS.values() for s in shown_code_cells(nb)]
    bare = [s for s in shown if bare_test(s)]
    assert len(bare) <= 0.15 * len(shown), f'{len(bare)} of {len(shown)} visible code cells are bare tests (at most 15 %)'

def test_directives_shape_the_page():
    nb = {'cells': [{'cell_type': 'code', 'source': '#| hide\nx = 1', 'outputs': [], 'metadata': {}},
                    {'cell_type': 'code', 'source': '#| output: false\ny = 2', 'outputs': [{'output_type': 'stream', 'name': 'stdout', 'text': 'hi'}], 'metadata': {}},
                    {'cell_type': 'code', 'source': '#| export\ndef f(): pass', 'outputs': [], 'metadata': {}}]}
    read = docs.for_reading(nbformat.from_dict({'cells': nb['cells'], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
    assert [c.source for c in read.cells] == ['y = 2', 'def f(): pass'] and read.cells[0].outputs == []

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site')/'_docs'
    made = subprocess.run([sys.executable, str(ROOT/'.ci'/'docs.py'), 'render', '--out', str(out)], capture_output=True, text=True, check=True)
    assert 'index.html' in made.stdout
    port = free_port()
    with served([sys.executable, '-m', 'http.server', '-d', str(out), '--bind', '127.0.0.1', str(port)],
                f'http://127.0.0.1:{port}/index.html', out.parent/'http.log'):
        yield f'http://127.0.0.1:{port}', out

def test_site_in_chromium(site):
    base, out = site
    stems = [p.stem for p in docs.notebooks()]
    assert sorted(p.stem for p in out.glob('*.html')) == sorted(stems)
    with chromium_page() as page:
        page.goto(f'{base}/')   # the index is the home page
        assert page.locator('h1').first.inner_text().strip() == 'lesson2_lib'
        links = page.eval_on_selector_all('nav.l2-nav a', 'as => as.map(a => a.getAttribute("href"))')
        assert links == [f'{s}.html' for s in stems]
        page.click('a[rel=next]')   # the pager leads on to the first chapter
        assert page.url.endswith(f'/{stems[1]}.html')
        page.goto(f'{base}/'); page.click('main a[href="02_train.html"]')   # the README's map links to the chapters
        assert page.url.endswith('/02_train.html')
        for stem in stems:
            nb = NOTEBOOKS[f'{stem}.ipynb']
            page.goto(f'{base}/{stem}.html'); page.wait_for_load_state('load')
            assert page.locator('nav.l2-nav a.here').inner_text() == docs.title(nbformat.read(ROOT/'nbs'/f'{stem}.ipynb', as_version=4)), stem
            shown = page.eval_on_selector_all('main img', 'is => is.map(i => i.complete && i.naturalWidth > 0)')
            expected = pictures(nb)
            assert len(shown) >= expected and all(shown), f'{stem}.html: {sum(shown)} of {len(shown)} pictures drawn, {expected} in the notebook'
            assert page.locator('.jp-Cell').count() > 0, stem
            assert not page.eval_on_selector_all('.jp-InputArea pre', 'es => es.some(e => /^#\\|/m.test(e.textContent))'), f'{stem}: directive lines shown'
        page.goto(f'{base}/05_sgd.html')
        page.screenshot(path=str(out.parent/'05_sgd.png'), full_page=False)

# A path of the machine that ran a notebook (absolute, two parts or more, not inside a URL), a site-packages location, or a
# library warning: none belongs in an output a learner reads. The same rule as ../shared/tools/course_stats.py's `leaks`.
LEAK = re.compile(r'((?<![\w:/.<])/[A-Za-z_][\w.-]*/[\w.-]+|site-packages|\w+Warning:)')

def leaks(nb:dict)->list:
    "(cell index, what leaked) for every stored output of `nb` that names this machine or carries a warning."
    found = []
    for i, c in enumerate(nb['cells']):
        for o in c.get('outputs', []):
            text = ''.join(o.get('text', [])) + ''.join(''.join(v) if isinstance(v, list) else str(v)
                                                       for k, v in o.get('data', {}).items() if k.startswith('text/'))
            if m := LEAK.search(re.sub(r'[A-Za-z0-9+/=]{40,}', '', text)): found.append((i, m.group(0)))   # base64 is no path
    return found

def test_leaks_are_found():
    out = lambda t: {'cells': [{'cell_type': 'code', 'source': '', 'outputs': [{'output_type': 'stream', 'name': 'stdout', 'text': t}]}]}
    assert leaks(out('saved in /tmp/tmpab12/images\n')) == [(0, '/tmp/tmpab12')]
    assert leaks(out('/work/main/x.py:3: FutureWarning: soon\n'))
    assert leaks(out('POST /predict answers https://example.com/a/b.jpg and data/images/x.jpg\n')) == []

@pytest.mark.parametrize('name', sorted(NOTEBOOKS))
def test_stored_outputs_name_no_machine(name):
    assert not leaks(NOTEBOOKS[name]), f'{name}: stored outputs name this machine or carry a warning: {leaks(NOTEBOOKS[name])}'

# A picture a chapter shows by reference (the screenshots `make screenshots` takes): it must be in the repository, as a real
# image, or GitHub and the site show a broken link where the learner expects the widget.
IMAGE_REF = re.compile(r'!\[[^\]]*\]\(([^)\s]+)\)')

@pytest.mark.parametrize('name', sorted(NOTEBOOKS))
def test_pictures_shown_by_reference_exist(name):
    from PIL import Image
    for c in NOTEBOOKS[name]['cells']:
        if c['cell_type'] != 'markdown': continue
        for ref in IMAGE_REF.findall(''.join(c['source'])):
            if ref.startswith(('http:', 'https:', 'data:', 'attachment:')): continue
            f = ROOT/'nbs'/ref
            assert f.is_file(), f'{name} shows {ref}, which is not in nbs/: run `make screenshots`'
            with Image.open(f) as im: assert min(im.size) >= 100, f'{name}: {ref} is only {im.size}'

LESSON = [n for n in NOTEBOOKS if n[:2] in ('01', '02', '03', '04', '05')]
# Starlette's in-process client keeps its name: 04_deploy calls the app through it. Nothing else a learner reads names the checks.
CLIENT = re.compile(r'\b(starlette\.)?testclient\b', re.I)

def reader_text(nb:dict)->list:
    "(cell number, text) of what a learner reads: the markdown and the code cells that are not hidden."
    return [(i, ''.join(c['source'])) for i, c in enumerate(nb['cells'])
            if c['cell_type'] == 'markdown' or (c['cell_type'] == 'code' and 'hide' not in docs.directives(''.join(c['source'])))]

@pytest.mark.parametrize('name', LESSON)
def test_lesson_prose_speaks_of_the_lesson(name):
    found = [(i, m.group(0)) for i, text in reader_text(NOTEBOOKS[name])
             for m in re.finditer(r'\b(test\w*|bench\w*|pytest|chromium)\b', CLIENT.sub('', text), re.I)]
    assert not found, f'{name} speaks of its checks where a learner reads it (cell, word): {found}'

def test_lesson_prose_check_finds_words():
    nb = {'cells': [{'cell_type': 'markdown', 'source': 'as the browser tests use it'}, {'cell_type': 'code', 'source': '#| hide\ntest_eq(1, 1)'},
                    {'cell_type': 'code', 'source': 'client = TestClient(app)'}]}
    assert [(i, m.group(0)) for i, t in reader_text(nb) for m in re.finditer(r'\b(test\w*)\b', CLIENT.sub('', t), re.I)] == [(0, 'tests')]
