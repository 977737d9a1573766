"""Render nbs/index.ipynb to README.md.

nbdev_readme needs Quarto, which cannot be installed from a package registry here, so this
does the part of it the project needs: markdown cells as they are, code cells as fenced
Python without `#|` directive lines, their text outputs as fenced text, `#| hide` cells left out."""
from pathlib import Path
import nbformat

root = Path(__file__).resolve().parent.parent

def directives(src):
    return [l[3:].strip() for l in src.splitlines() if l.startswith('#|')]

def code_block(src):
    body = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
    return f'```python\n{body}\n```' if body else ''

def outputs(cell):
    texts = []
    for o in cell.get('outputs', []):
        if o.output_type == 'stream': texts.append(o.text)
        elif 'data' in o and 'text/plain' in o.data: texts.append(o.data['text/plain'])
    text = ''.join(texts).strip()
    return f'```\n{text}\n```' if text else ''

def render(nb):
    parts = ['<!-- Generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file. -->']
    for c in nb.cells:
        if c.cell_type == 'markdown': parts.append(c.source.strip())
        elif c.cell_type == 'code' and 'hide' not in directives(c.source):
            parts += [code_block(c.source), outputs(c)]
    return '\n\n'.join(p for p in parts if p) + '\n'

if __name__ == '__main__':
    nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
    out = root/'README.md'
    text = render(nb)
    if not out.exists() or out.read_text() != text: out.write_text(text)
