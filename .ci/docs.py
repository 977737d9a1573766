"""Stored outputs and a rendered site for the notebooks (`make docs`).

    python .ci/docs.py execute [NOTEBOOK ...]   run notebooks in a real Jupyter kernel and save their outputs in nbs/
    python .ci/docs.py render [--out _docs]     write one HTML page per notebook, with navigation, index.html the home page

nbdev's own site builder (`nbdev_docs`) needs Quarto, a separate program that is not on PyPI and cannot be installed on
these machines, so the pages are made with nbconvert, which the project already uses. nbdev's cell directives are
honoured the way its site honours them: `#| hide` cells are left out, `#| echo: false` shows only the output,
`#| output: false` only the code, and directive lines are not shown; cells of imports alone are left out too.

What is kept as documentation is small: widget state and widget views are dropped (a widget needs a live kernel), so
are libraries' warnings (they name files of the machine that ran them),
cells nbdev_test skips (`tst_flags` in settings.ini: slow, net) and `#| eval: false` cells are not run (a skipped cell keeps the
outputs it had; `execute --slow` runs the slow ones too), and each
notebook's saved size is checked against a ceiling."""
import argparse, configparser, html, os, re, shutil, sys, time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT/'nbs'
CFG = configparser.ConfigParser(); CFG.read(ROOT/'settings.ini')
SKIP_FLAGS = set(CFG['DEFAULT'].get('tst_flags', '').split())
MAX_NB_BYTES = 3_000_000   # one notebook with its outputs; all of them together stay well under GitHub's comfort (15 MB)
WIDGET = 'application/vnd.jupyter.widget-view+json'

def notebooks()->list:
    "The notebooks in chapter order, index first."
    nbs = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith('_'))
    return sorted(nbs, key=lambda p: (p.stem != 'index', p.name))

def directives(source:str)->dict:
    "nbdev's `#| name args` lines of a cell: {name: [args]}."
    out = {}
    for line in source.splitlines():
        if line.startswith('#|') and line[2:].strip():
            name, *args = line[2:].strip().split()
            out[name.rstrip(':')] = args
    return out

def runs(cell, flags:set=frozenset())->bool:
    "Does nbdev_test run this cell (and so `execute`), when given the test flags `flags` (as `nbdev_test --flags slow`)?"
    if cell.cell_type != 'code': return False
    d = directives(cell.source)
    if 'nbdev_export(' in cell.source or d.get('eval', [''])[:1] == ['false']: return False
    return not ((SKIP_FLAGS - set(flags)) & d.keys())

def _keep(output:dict)->dict|None:
    "The output as documentation: no widget views (they need a live kernel), no widget-only text."
    if output.get('output_type') == 'stream' and output.get('name') == 'stderr' and '/site-packages/' in ''.join(output.get('text', '')):
        return None   # a library's warning, naming files of this machine's environment: not course material
    data = output.get('data')
    if data is None: return output
    if WIDGET in data:
        data = {k: v for k, v in data.items() if k != WIDGET}
        if set(data) <= {'text/plain'}: return None   # only "VBox(children=...)" is left: nothing a reader can use
        output['data'] = data
    return output

def execute(path:Path, timeout:int=1800, flags:set=frozenset())->float:
    "Run the notebook at `path` in a fresh kernel and save it with its outputs; seconds taken. Cells nbdev_test skips (unless given their flag) keep the outputs they had."
    import nbformat
    from nbclient import NotebookClient
    start = time.time()
    nb = nbformat.read(path, as_version=4)
    todo = [c for c in nb.cells if runs(c, flags)]
    for c in todo: c.outputs, c.execution_count = [], None
    run = nbformat.v4.new_notebook(cells=todo, metadata=nb.metadata)
    client = NotebookClient(run, kernel_name='python3', timeout=timeout, allow_errors=False,
                            resources={'metadata': {'path': str(path.parent)}})
    try: client.execute()
    except Exception as e:   # nothing is written: the notebook keeps the outputs it had
        raise RuntimeError(f'{path.name} failed in the kernel, so its outputs were not saved:\n{e}') from None
    for c in todo:
        c.outputs = [o for o in map(_keep, c.outputs) if o is not None]
        c.execution_count = None
        for o in c.outputs:
            if o.get('output_type') == 'execute_result': o['execution_count'] = None
            if 'metadata' in o: o['metadata'] = {}
    nb.metadata.pop('widgets', None)
    text = nbformat.writes(nb) + '\n'
    if len(text.encode()) > MAX_NB_BYTES:
        raise ValueError(f'{path.name} with outputs would be {len(text.encode()) / 1e6:.1f} MB, over {MAX_NB_BYTES / 1e6:.0f} MB: make its outputs smaller (not saved)')
    path.write_text(text)
    from nbdev.clean import nbdev_clean
    nbdev_clean(str(path))   # the project's own form: no ids churn, no execution counts, no metadata
    return time.time() - start

def _one(p:Path, flags:set=frozenset()):
    secs = execute(p, flags=flags); print(f'{p.name}: outputs saved ({secs:.0f} s, {p.stat().st_size / 1e3:.0f} kB)', flush=True)

def title(nb)->str:
    "The notebook's `# title`."
    for c in nb.cells:
        if c.cell_type == 'markdown':
            m = re.search(r'^# (.+)$', c.source, re.M)
            if m: return m.group(1).strip()
    return 'Untitled'

def _imports_only(source:str)->bool:
    "Is `source` nothing but imports (and warning filters)?"
    import ast
    try: body = ast.parse(source).body
    except SyntaxError: return False
    filt = lambda s: isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and 'filterwarnings' in ast.unparse(s.value.func)
    return bool(body) and all(isinstance(s, (ast.Import, ast.ImportFrom)) or filt(s) for s in body)

def for_reading(nb):
    "The notebook as its page shows it: hidden cells out, directive lines out, echo/output directives applied."
    cells = []
    for c in nb.cells:
        if c.cell_type == 'code':
            d = directives(c.source)
            if 'hide' in d or 'nbdev_export(' in c.source: continue
            c.source = '\n'.join(l for l in c.source.splitlines() if not l.startswith('#|')).strip()
            if d.get('echo', [''])[:1] == ['false']: c.metadata.setdefault('tags', []).append('hide-input')   # removed by the exporter
            if d.get('output', [''])[:1] == ['false']: c.outputs = []
            if not c.source and not c.outputs: continue
            if _imports_only(c.source): continue   # imports only: the code below shows what is used
        cells.append(c)
    nb.cells = cells
    return nb

STYLE = '''<style>
body { margin: 0; }
nav.l2-nav { position: fixed; top: 0; left: 0; bottom: 0; width: 16rem; overflow-y: auto; padding: 1rem; box-sizing: border-box;
  background: #f6f7f9; border-right: 1px solid #ddd; font: 14px/1.4 system-ui, sans-serif; }
nav.l2-nav a { display: block; padding: .3rem .4rem; color: #1a4f8b; text-decoration: none; border-radius: 4px; }
nav.l2-nav a.here { background: #dde8f5; font-weight: 600; }
nav.l2-nav .l2-home { font-weight: 700; margin-bottom: .6rem; }
main.l2-page { margin-left: 16rem; }
.l2-pager { display: flex; justify-content: space-between; margin: 2rem 1rem; font: 14px system-ui, sans-serif; }
</style>'''

def nav(pages:list, here:str)->str:
    "The side navigation: every page, the current one marked."
    mark = lambda stem: ' class="here" aria-current="page"' if stem == here else ''
    links = ''.join(f'<a href="{stem}.html"{mark(stem)}>{html.escape(t)}</a>' for stem, t in pages)
    return f'<nav class="l2-nav" aria-label="chapters"><div class="l2-home">lesson2_lib</div>{links}</nav>'

def pager(pages:list, i:int)->str:
    "Links to the previous and next pages."
    prev = f'<a rel="prev" href="{pages[i - 1][0]}.html">&larr; {html.escape(pages[i - 1][1])}</a>' if i > 0 else '<span></span>'
    nxt = f'<a rel="next" href="{pages[i + 1][0]}.html">{html.escape(pages[i + 1][1])} &rarr;</a>' if i + 1 < len(pages) else '<span></span>'
    return f'<div class="l2-pager">{prev}{nxt}</div>'

def render(out:Path)->list:
    "Write one HTML page per notebook into `out` (index.html from index.ipynb); the list of (page, title, pictures)."
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    out.mkdir(parents=True, exist_ok=True)
    paths = notebooks()
    nbs = [nbformat.read(p, as_version=4) for p in paths]
    pages = [(p.stem, title(nb)) for p, nb in zip(paths, nbs)]
    exporter = HTMLExporter(template_name='lab', exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'hide-input'}, enabled=True), enabled=True)
    made = []
    if (NBS/'images').is_dir(): shutil.copytree(NBS/'images', out/'images', dirs_exist_ok=True)   # screenshots the chapters show
    for i, (path, nb) in enumerate(zip(paths, nbs)):
        nb = for_reading(nb)
        pictures = sum(1 for c in nb.cells if c.cell_type == 'code' for o in c.outputs if 'image/png' in o.get('data', {}) or 'image/jpeg' in o.get('data', {}))
        body, _ = exporter.from_notebook_node(nb, resources={'metadata': {'name': pages[i][1]}})
        body = re.sub(r'href="(?:\./|nbs/)?([\w-]+)\.ipynb', r'href="\1.html', body)   # links to notebooks go to their pages
        body = body.replace('</head>', STYLE + '</head>', 1)
        body = re.sub(r'<body([^>]*)>', lambda m: f'<body{m.group(1)}>{nav(pages, path.stem)}<main class="l2-page">', body, count=1)
        body = body.replace('</body>', pager(pages, i) + '</main></body>', 1)
        (out/f'{path.stem}.html').write_text(body)
        made.append((path.stem, pages[i][1], pictures))
    return made

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    ex = sub.add_parser('execute', help='run notebooks in a real kernel and save their outputs')
    ex.add_argument('notebooks', nargs='*', help='notebook files (default: all of nbs/)')
    ex.add_argument('--workers', type=int, default=2)
    ex.add_argument('--slow', action='store_true', help='also run the cells flagged slow (their stored outputs are otherwise kept)')
    rd = sub.add_parser('render', help='write the HTML pages')
    rd.add_argument('--out', default=str(ROOT/'_docs'))
    a = ap.parse_args()
    if a.cmd == 'execute':
        paths = [Path(p).resolve() for p in a.notebooks] or notebooks()
        os.environ.setdefault('OMP_NUM_THREADS', '1' if a.workers > 1 else str(os.cpu_count()))
        missing = [str(p) for p in paths if not p.is_file()]
        if missing: sys.exit(f'no such notebook: {", ".join(missing)}')
        failed = []
        with ProcessPoolExecutor(a.workers) as pool:   # the longest first; one notebook failing does not stop the others
            jobs = {pool.submit(_one, p, {'slow'} if a.slow else set()): p for p in sorted(paths, key=lambda p: -p.stat().st_size)}
            for job in as_completed(jobs):
                if job.exception(): failed.append(jobs[job].name); print(job.exception(), file=sys.stderr, flush=True)
        if failed: sys.exit(f'make docs: {len(failed)} notebook(s) failed and kept their old outputs: {", ".join(sorted(failed))}')
    else:
        out = Path(a.out)
        made = render(out)
        for stem, t, n in made: print(f'{out.name}/{stem}.html  {n:3} pictures  {t}')
        print(f'open {out/"index.html"} in a browser, or serve it: python -m http.server -d {out} 8000')

if __name__ == '__main__': main()
