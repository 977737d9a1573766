"The course as a learner opens it: `make lab` (real JupyterLab on 127.0.0.1), a lesson chapter run top to bottom in Chromium."
import json, os, secrets, subprocess
from conftest import ROOT
from browser import chromium_page, free_port, served, OUTPUT

CHAPTER = 'nbs/01_data.ipynb'
STATE = """() => { const w = window.jupyterapp?.shell?.currentWidget;
  if (!w?.content?.widgets || !w.sessionContext?.session?.kernel) return null;
  const code = w.content.widgets.filter(c => c.model.type === 'code');
  return {status: w.sessionContext.session.kernel.status, cells: code.length,
          ran: code.filter(c => c.model.executionCount !== null).length,
          errors: code.flatMap(c => c.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)),
          pictures: code.flatMap(c => c.model.outputs.toJSON()).filter(o => o.data && o.data['image/png']).length} }"""

def lab_env(home):
    "Environment for `make lab` with JupyterLab's settings in `home`: autosave off, so running the chapter never rewrites nbs/."
    settings = home/'settings'/'@jupyterlab'/'docmanager-extension'
    settings.mkdir(parents=True)
    (settings/'plugin.jupyterlab-settings').write_text(json.dumps({'autosave': False}))
    return {**os.environ, 'HOME': str(home), 'JUPYTER_CONFIG_DIR': str(home/'config'), 'JUPYTER_DATA_DIR': str(home/'data'),
            'JUPYTER_RUNTIME_DIR': str(home/'runtime'), 'IPYTHONDIR': str(home/'ipython'), 'LESSON2_CACHE': str(home/'cache'),
            'JUPYTERLAB_SETTINGS_DIR': str(home/'settings'), 'TMPDIR': str(home)}

def test_make_lab_runs_a_lesson_chapter(tmp_path):
    "`make lab` opens the first lesson chapter; Run All in Chromium finishes every cell with no error, showing its pictures."
    port, token = free_port(), secrets.token_hex(16)
    before = subprocess.run(['git', 'status', '--porcelain', 'nbs'], cwd=ROOT, capture_output=True, text=True).stdout
    args = f'LAB_ARGS=--no-browser --port={port} --IdentityProvider.token={token} --LabApp.expose_app_in_browser=True --LabApp.news_url= --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'
    OUTPUT.mkdir(exist_ok=True)
    with served(['make', '-s', 'lab', args], f'http://127.0.0.1:{port}/api/status?token={token}', tmp_path/'lab.log', 180,
                cwd=ROOT, env=lab_env(tmp_path)), chromium_page() as page:
        page.goto(f'http://127.0.0.1:{port}/lab/tree/{CHAPTER}?token={token}')
        page.wait_for_function(f"() => ({STATE})()?.status === 'idle'", timeout=180_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        try: page.wait_for_function(f"() => {{ const s = ({STATE})(); return s && (s.errors.length > 0 || (s.ran === s.cells && s.status === 'idle')) }}",
                                    timeout=600_000, polling=1000)
        finally: page.screenshot(path=str(OUTPUT/'lab_01_data.png'))
        state = page.evaluate(f"({STATE})()")
    assert not state['errors'], f'{CHAPTER} in JupyterLab showed errors: {state["errors"]}'
    assert state['ran'] == state['cells'] and state['pictures'] >= 2, state
    after = subprocess.run(['git', 'status', '--porcelain', 'nbs'], cwd=ROOT, capture_output=True, text=True).stdout
    assert after == before, f'running the chapter in JupyterLab changed files in nbs/:\n{after}'
