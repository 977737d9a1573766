"""Write .ci/constraints-latest.txt: the newest releases the package index has today of everything lesson2_lib needs at run
time, as `pip install lesson2_lib` would pick them in a learner's fresh environment (Colab, Kaggle, a new laptop venv).

The development set (.ci/constraints.txt) stays pinned for nbdev 2; this second set is what tests/test_packaging.py
installs beside the wheel, to prove the library's requirements are as wide as the code works. torch and torchvision keep
the versions of the development set (they come from this machine's wheel cache). Run with `make constraints-latest`."""
import configparser, json, subprocess, sys, tempfile, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'.ci'/'constraints-latest.txt'

def pinned(name:str)->str:
    "The development set's pin of `name`, as `name==version`."
    return next(l.strip() for l in (ROOT/'.ci'/'constraints.txt').read_text().splitlines() if l.lower().startswith(name + '=='))

def main():
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    reqs = [r for r in cfg['DEFAULT']['requirements'].split() if not r.startswith(('torch>', 'torchvision>'))] + [pinned('torch'), pinned('torchvision')]
    with tempfile.TemporaryDirectory() as tmp:
        venv.create(tmp, with_pip=True)
        report = Path(tmp)/'report.json'
        subprocess.run([f'{tmp}/bin/python', '-m', 'pip', 'install', '-q', '--disable-pip-version-check', '--dry-run', '--ignore-installed',
                        '--report', report, *reqs], check=True)
        got = sorted((i['metadata']['name'], i['metadata']['version']) for i in json.loads(report.read_text())['install'])
    head = [l for l in __doc__.splitlines() if l.strip()]
    OUT.write_text(''.join(f'# {l}\n' for l in head[:2]) + '# Regenerate with `make constraints-latest`; the test that uses it: tests/test_packaging.py.\n'
                   + ''.join(f'{n}=={v}\n' for n, v in got))
    print(f'{OUT.relative_to(ROOT)}: {len(got)} packages; ' + ', '.join(f'{n} {v}' for n, v in got if n.lower() in ('fastai', 'fastcore', 'pandas', 'numpy', 'pillow', 'torch')))

if __name__ == '__main__': main()
